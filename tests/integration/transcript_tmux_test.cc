// `outpost logs ID -f` in a real terminal (tmux new-session -d -x 160 -y 50, send-keys,
// capture-pane) against a real server: a run of the real claude's captured stream-json output
// (tests/web/testdata/claude-write-run.jsonl, replayed by an agent with claude's parser) shows as
// a readable transcript — the provider retry, the Write call with its short argument, its
// folded result, the final status line — in colour, without colour under NO_COLOR, and as the
// raw JSON with --raw. A missing tmux is a failure naming it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {

using std::chrono::seconds;

class TranscriptTmuxTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_EQ(::access("/usr/bin/tmux", X_OK), 0)
        << "tmux is not installed (/usr/bin/tmux): run scripts/install-deps.sh test";
    socket_ = dir_ + "/tmux.sock";
    replay_ = std::string(OUTPOST_SOURCE_DIR) + "/tests/web/testdata/claude-write-run.jsonl";
    std::ofstream(dir_ + "/outpost.toml") << "[agents.replay]\n"
                                             "command = [\"/bin/sh\", \"-c\", \"{task}\"]\n"
                                             "parser = \"claude-stream-json\"\n"
                                             "models = [\"replay\"]\n";
    server_ = ServerProcess::Start(dir_ + "/data", {{"OUTPOST_RUNNER", "process"},
                                                    {"OUTPOST_CONFIG", dir_ + "/outpost.toml"}});
  }
  void TearDown() override {
    RunShell("tmux -S " + socket_ + " kill-server 2>/dev/null");
    ServerTest::TearDown();
  }

  std::string DispatchReplay() {
    // The file is read a line at a time with a pause, so `logs -f` follows a live run.
    std::string id = server_->Dispatch(R"({"agent":"replay","task":"while IFS= read -r l; do )"
                                       R"(printf '%s\\n' \"$l\"; sleep 0.2; done < )" +
                                       replay_ + R"("})");
    EXPECT_FALSE(id.empty());
    return id;
  }

  // Starts `ENV outpost logs ID -f ARGS` in a fresh 160x50 tmux session and waits until the
  // command has ended (it prints "[exit N]" after itself).
  std::string Follow(const std::string& id, const std::string& env, const std::string& args,
                     bool escapes) {
    const std::string session = "s" + std::to_string(++sessions_);
    const std::string tmux = "tmux -S " + socket_ + " ";
    Sh(tmux + "new-session -d -x 160 -y 50 -s " + session);
    Sh(tmux + "send-keys -t " + session + " " +
       Quote("clear; " + env + " " + OutpostBin() + " logs " + id + " -f --endpoint http://" +
             server_->address() + " " + args + "; echo \"[ex\"\"it $?]\"") +
       " Enter");
    std::string screen;
    EXPECT_TRUE(WaitFor(
        [&] {
          // -J: a wrapped line comes back whole (so a line too long for the pane shows).
          screen = Sh(tmux + "capture-pane -p -J " + (escapes ? "-e " : "") + "-t " + session);
          return screen.find("[exit ") != std::string::npos;
        },
        seconds(60)))
        << screen;
    return screen;
  }

  static std::string Quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

  std::string socket_, replay_;
  int sessions_ = 0;
};

TEST_F(TranscriptTmuxTest, LogsFollowRendersToolCallsAsAReadableTranscript) {
  const std::string id = DispatchReplay();
  const std::string screen = Follow(id, "env -u NO_COLOR", "", /*escapes=*/false);
  EXPECT_NE(screen.find("↻ retry 1/1 in 0.5 s: HTTP 500 server_error\n"), std::string::npos)
      << screen;
  EXPECT_NE(screen.find("▸ Write hello.txt\n"), std::string::npos) << screen;
  EXPECT_NE(screen.find("  ↳ File created successfully at: hello.txt (file state is current"),
            std::string::npos)
      << screen;
  EXPECT_NE(screen.find("● done\n"), std::string::npos) << screen;
  EXPECT_NE(screen.find("✓ COMPLETED (succeeded) · 240 in / 60 out tokens\n"), std::string::npos)
      << screen;
  EXPECT_NE(screen.find("[exit 0]"), std::string::npos) << screen;
  // No raw JSON of the agent, and the steps come in order.
  EXPECT_EQ(screen.find("{\"type\""), std::string::npos) << screen;
  EXPECT_LT(screen.find("↻ retry"), screen.find("▸ Write"));
  EXPECT_LT(screen.find("▸ Write"), screen.find("  ↳ File created"));
  EXPECT_LT(screen.find("  ↳ File created"), screen.find("✓ COMPLETED"));
  // Every line fits the terminal's 160 columns (cut with …, not wrapped; -J joins wraps).
  std::size_t start = 0;
  for (std::size_t nl; (nl = screen.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string line = screen.substr(start, nl - start);
    std::size_t chars = 0;
    for (char c : line) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    EXPECT_LE(chars, 160u) << line;
  }
}

TEST_F(TranscriptTmuxTest, ColoursOnATerminalAndNoneWithNoColor) {
  const std::string id = DispatchReplay();
  const std::string coloured = Follow(id, "env -u NO_COLOR", "", /*escapes=*/true);
  // tmux re-encodes the attributes (e.g. ESC[0m ESC[32m ESC[49m): the SGRs before the text on
  // its line.
  auto sgr_before = [&](std::string_view text) {
    std::size_t at = coloured.find(text);
    if (at == std::string::npos) return std::string("(not shown)");
    std::size_t line = coloured.rfind('\n', at);
    return coloured.substr(line == std::string::npos ? 0 : line + 1,
                           at - (line == std::string::npos ? 0 : line + 1));
  };
  EXPECT_NE(sgr_before("▸ Write hello.txt").find("\x1b[36m"), std::string::npos) << coloured;
  EXPECT_NE(sgr_before("✓ COMPLETED").find("\x1b[32m"), std::string::npos) << coloured;
  EXPECT_NE(sgr_before("↻ retry").find("\x1b[33m"), std::string::npos) << coloured;
  const std::string plain = Follow(id, "env NO_COLOR=1", "", /*escapes=*/true);
  // The transcript's lines (the shell's prompt may have colours of its own).
  const std::size_t from = plain.find("↻ retry"), to = plain.find("[exit ");
  ASSERT_NE(from, std::string::npos) << plain;
  ASSERT_NE(to, std::string::npos) << plain;
  const std::string transcript = plain.substr(from, to - from);
  EXPECT_NE(transcript.find("▸ Write hello.txt\n"), std::string::npos) << transcript;
  EXPECT_NE(transcript.find("✓ COMPLETED (succeeded)"), std::string::npos) << transcript;
  EXPECT_EQ(transcript.find('\x1b'), std::string::npos) << transcript;  // no colour at all
}

TEST_F(TranscriptTmuxTest, RawKeepsTheAgentsOwnOutput) {
  const std::string id = DispatchReplay();
  server_->WaitTerminal(id);
  const std::string screen = Follow(id, "env -u NO_COLOR", "--raw", /*escapes=*/false);
  EXPECT_NE(screen.find("{\"type\":\"system\",\"subtype\":\"api_retry\""), std::string::npos)
      << screen;
  EXPECT_EQ(screen.find("▸ Write"), std::string::npos) << screen;
  EXPECT_NE(screen.find("[exit 0]"), std::string::npos) << screen;
}

}  // namespace
}  // namespace outpost::testing
