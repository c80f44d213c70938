#include "aws/xml.h"

#include <gtest/gtest.h>

namespace outpost::aws {
namespace {

TEST(Xml, ReadsAListBucketResult) {
  auto x = ParseXml(R"(<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><IsTruncated>true</IsTruncated>
  <Contents><Key>a &amp; b/&lt;c&gt;&#233;&#x1F600;</Key><Size>12</Size>
    <ETag>&quot;abc&quot;</ETag><Owner><ID>x</ID></Owner></Contents>
  <Contents><Key><![CDATA[raw <text> & more]]></Key><Size>0</Size></Contents>
  <NextContinuationToken>tok/+=</NextContinuationToken>
  <Empty/><s3:Prefixed attr="a>b">v</s3:Prefixed>
</ListBucketResult>)");
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  EXPECT_EQ(x->name, "ListBucketResult");
  auto contents = x->Children("Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents[0]->ChildText("Key"), "a & b/<c>\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(contents[0]->ChildText("ETag"), "\"abc\"");
  EXPECT_EQ(contents[0]->Child("Owner")->ChildText("ID"), "x");
  EXPECT_EQ(contents[1]->ChildText("Key"), "raw <text> & more");
  EXPECT_EQ(x->ChildText("NextContinuationToken"), "tok/+=");
  EXPECT_EQ(x->ChildText("Prefixed"), "v");
  ASSERT_NE(x->Child("Empty"), nullptr);
  EXPECT_EQ(x->ChildText("Missing"), "");
}

TEST(Xml, MalformedDocumentsAreRejected) {
  for (const char* bad :
       {"", "text only", "<a>", "<a></b>", "<a><b></a></b>", "<a>&bogus;</a>", "<a>&#xZZ;</a>",
        "<a></a><b></b>", "<a attr=\"x></a>", "<a><![CDATA[x</a>"}) {
    EXPECT_EQ(ParseXml(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(Xml, DeepNestingIsRefusedNotOverflowed) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  EXPECT_EQ(ParseXml(deep).status().code(), Code::kInvalidArgument);
}

TEST(Xml, EscapeRoundTrips) {
  std::string text = "a&b<c>\"d'";
  auto x = ParseXml("<v>" + XmlEscape(text) + "</v>");
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->text, text);
}

}  // namespace
}  // namespace outpost::aws
