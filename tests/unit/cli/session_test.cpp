#include "cli/session.h"

#include <gtest/gtest.h>

#include "cli/meta_commands.h"

namespace kalam::cli {
namespace {

TEST(ServerUrl, Forms) {
  auto a = ParseServerUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->url, "http://127.0.0.1:8080");
  auto b = ParseServerUrl("db.example.com/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, 80);
  EXPECT_EQ(b->url, "http://db.example.com:80");
  auto c = ParseServerUrl("http://[::1]:9000");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 9000);
}

TEST(ServerUrl, Refusals) {
  EXPECT_FALSE(ParseServerUrl("https://x:1").ok());
  EXPECT_FALSE(ParseServerUrl("http://x:0").ok());
  EXPECT_FALSE(ParseServerUrl("http://x:99999").ok());
  EXPECT_FALSE(ParseServerUrl("http://x:80a").ok());
  EXPECT_FALSE(ParseServerUrl("http://:80").ok());
  EXPECT_FALSE(ParseServerUrl("http://x:80/v1/api").ok());
}

TEST(MetaCommand, Parse) {
  MetaCommand dt = ParseMetaCommand("  \\dt   app ; ");
  EXPECT_EQ(dt.name, "dt");
  EXPECT_EQ(dt.argument, "app");
  MetaCommand q = ParseMetaCommand("\\q");
  EXPECT_EQ(q.name, "q");
  EXPECT_EQ(q.argument, "");
  MetaCommand sub = ParseMetaCommand("\\subscribe SELECT * FROM app.t WHERE a = 1");
  EXPECT_EQ(sub.name, "subscribe");
  EXPECT_EQ(sub.argument, "SELECT * FROM app.t WHERE a = 1");
}

}  // namespace
}  // namespace kalam::cli
