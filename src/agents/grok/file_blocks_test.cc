#include "agents/grok/file_blocks.h"

#include <gtest/gtest.h>

namespace outpost::agents::grok {
namespace {

TEST(FileBlocks, LangColonPathBlocksAreExtractedInOrder) {
  auto blocks = ExtractFileBlocks(
      "Here you go.\n```python:src/a.py\nprint(1)\n```\ntext\n```c:b.c\nint x;\n\nint y;\n```\n");
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].path, "src/a.py");
  EXPECT_EQ(blocks[0].content, "print(1)\n");
  EXPECT_EQ(blocks[1].path, "b.c");
  EXPECT_EQ(blocks[1].content, "int x;\n\nint y;\n");
}

TEST(FileBlocks, FileLabelFollowedByBlockIsAFile) {
  auto blocks = ExtractFileBlocks("**File:** `lib/x.js`\n\n```js\nx();\n```\n");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].path, "lib/x.js");
  EXPECT_EQ(blocks[0].content, "x();\n");
}

TEST(FileBlocks, BlocksWithoutPathAndStaleLabelsAreIgnored) {
  auto blocks = ExtractFileBlocks("File: a.txt\nsome prose\n```sh\nls\n```\n```bash\nrm\n```\n");
  EXPECT_TRUE(blocks.empty());
}

TEST(FileBlocks, LongerFenceContainsShorterFences) {
  auto blocks = ExtractFileBlocks("````md:README.md\n# T\n```\ncode\n```\n````\n");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].content, "# T\n```\ncode\n```\n");
}

TEST(FileBlocks, UnterminatedBlockIsDropped) {
  auto blocks = ExtractFileBlocks("```py:a.py\nok\n```\n```py:b.py\ncut off");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].path, "a.py");
}

TEST(FileBlocks, CrLfLinesAreNormalised) {
  auto blocks = ExtractFileBlocks("```txt:a.txt\r\nline\r\n```\r\n");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].content, "line\n");
}

}  // namespace
}  // namespace outpost::agents::grok
