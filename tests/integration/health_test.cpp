#include <gtest/gtest.h>

#include "server_process.h"

namespace kalam::testing {
namespace {

TEST(Health, AnswersWithoutAuthentication) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  auto health = http.Send("GET", "/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(boost::json::parse(health->body).at("status").as_string(), "ok");
  auto check = http.Send("GET", "/v1/api/healthcheck");
  ASSERT_TRUE(check.ok());
  auto body = boost::json::parse(check->body);
  EXPECT_EQ(body.at("status").as_string(), "healthy");
  EXPECT_EQ(body.at("api_version").as_string(), "v1");
  EXPECT_TRUE(body.at("version").is_string());
}

}  // namespace
}  // namespace kalam::testing
