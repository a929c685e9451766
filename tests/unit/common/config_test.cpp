#include "common/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "../temp_dir.h"

namespace kalam {
namespace {

Result<Config> LoadText(const testing::TempDir& dir, const std::string& text) {
  const std::string path = dir.path() + "/server.toml";
  std::ofstream(path) << text;
  return LoadConfig(path);
}

TEST(Config, CacheSizesDefaultsAndBounds) {
  testing::TempDir dir;
  auto defaults = LoadText(dir, "[storage]\ndata_path = \"" + dir.path() + "/data\"\n");
  ASSERT_TRUE(defaults.ok()) << defaults.status().message();
  EXPECT_EQ(defaults->storage.block_cache_mb, 256);
  EXPECT_EQ(defaults->storage.cold_cache_mb, 64);

  auto set = LoadText(dir, "[storage]\nblock_cache_mb = 64\n");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->storage.block_cache_mb, 64);

  for (const char* bad : {"0", "-5", "2000000"}) {
    auto refused = LoadText(dir, std::string("[storage]\nblock_cache_mb = ") + bad + "\n");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().code(), Code::kInvalidInput);
    EXPECT_NE(refused.status().message().find("storage.block_cache_mb"), std::string::npos);
  }
  auto wrong_type = LoadText(dir, "[storage]\nblock_cache_mb = \"big\"\n");
  EXPECT_FALSE(wrong_type.ok());

  auto off = LoadText(dir, "[storage]\ncold_cache_mb = 0\n");
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_EQ(off->storage.cold_cache_mb, 0);
  for (const char* bad : {"-1", "2000000"}) {
    auto refused = LoadText(dir, std::string("[storage]\ncold_cache_mb = ") + bad + "\n");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find("storage.cold_cache_mb"), std::string::npos);
  }
}

}  // namespace
}  // namespace kalam
