#include "common/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace outpost {
namespace {

TEST(Ulid, IsTwentySixCrockfordCharsAndValid) {
  std::string id = NewUlid(RealClock::Instance().Now());
  EXPECT_EQ(id.size(), 26u);
  EXPECT_TRUE(IsUlid(id));
}

TEST(Ulid, EncodesItsMillisecondTime) {
  WallTime t(std::chrono::milliseconds(1'768'000'000'123));
  EXPECT_EQ(UlidTime(NewUlid(t)), t);
}

TEST(Ulid, LaterTimesSortAfterEarlierOnes) {
  WallTime t(std::chrono::milliseconds(1'768'000'000'000));
  EXPECT_LT(NewUlid(t), NewUlid(t + std::chrono::milliseconds(1)));
}

TEST(Ulid, ManyAreUnique) {
  std::set<std::string> ids;
  WallTime t = RealClock::Instance().Now();
  for (int i = 0; i < 10000; ++i) ids.insert(NewUlid(t));
  EXPECT_EQ(ids.size(), 10000u);
}

TEST(Ulid, RejectsMalformedIds) {
  EXPECT_FALSE(IsUlid(""));
  EXPECT_FALSE(IsUlid("01KF14T55EQC18M4B3R8ARPMH"));    // 25 chars
  EXPECT_FALSE(IsUlid("01KF14T55EQC18M4B3R8ARPMHTX"));  // 27 chars
  EXPECT_FALSE(IsUlid("01KF14T55EQC18M4B3R8ARPMHU"));   // U is not Crockford
  EXPECT_FALSE(IsUlid("81KF14T55EQC18M4B3R8ARPMHT"));   // overflows 48 bits
  EXPECT_FALSE(IsUlid("../../etc/passwd.........."));
  EXPECT_TRUE(IsUlid("01KF14T55EQC18M4B3R8ARPMHT"));
}

TEST(Ulid, CanonicalFormIsUpperCaseAndLeavesNonUlidsAlone) {
  EXPECT_EQ(CanonicalUlid("01kf14t55eqc18m4b3r8arpmht"), "01KF14T55EQC18M4B3R8ARPMHT");
  EXPECT_EQ(CanonicalUlid("01Kf14T55eqc18M4b3r8ArPmHt"), "01KF14T55EQC18M4B3R8ARPMHT");
  EXPECT_EQ(CanonicalUlid("01KF14T55EQC18M4B3R8ARPMHT"), "01KF14T55EQC18M4B3R8ARPMHT");
  EXPECT_TRUE(IsUlid("01kf14t55eqc18m4b3r8arpmht"));
  // Not a ULID: unchanged, so that validation still reports what was given.
  EXPECT_EQ(CanonicalUlid("not-a-run"), "not-a-run");
  EXPECT_EQ(CanonicalUlid("01kf14t55eqc18m4b3r8arpmhu"), "01kf14t55eqc18m4b3r8arpmhu");
}

}  // namespace
}  // namespace outpost
