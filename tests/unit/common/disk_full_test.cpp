#include "common/disk_full.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <system_error>

namespace kalam {
namespace {

TEST(DiskFullTest, IsResourceExhaustedWithOneMessage) {
  const Status s = DiskFull("writing batch-3.parquet");
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(HttpStatus(s.code()), 507);
  EXPECT_EQ(
      s.message().rfind("the disk holding the data directory is full (writing batch-3.parquet)", 0),
      0u)
      << s.message();
}

TEST(DiskFullTest, RecognisesNoSpaceFromTheFileSystemAndFromLibraries) {
  EXPECT_TRUE(IsNoSpace(std::error_code(ENOSPC, std::generic_category())));
  EXPECT_TRUE(IsNoSpace(std::error_code(EDQUOT, std::system_category())));
  EXPECT_FALSE(IsNoSpace(std::error_code(EACCES, std::generic_category())));
  EXPECT_FALSE(IsNoSpace(std::error_code()));
  EXPECT_TRUE(
      SaysNoSpace("IO Error: Could not write file \"x.parquet.tmp\": No space left on device"));
  EXPECT_FALSE(SaysNoSpace("IO Error: Permission denied"));
}

}  // namespace
}  // namespace kalam
