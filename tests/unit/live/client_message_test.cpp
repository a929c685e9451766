// WebSocket client messages read apart from the connection: each type, the fields that
// default, and the refusals with their code and text as the client sees them.
#include "live/client_message.h"

#include <gtest/gtest.h>

#include <string>

namespace kalam::live {
namespace {

ClientMessage Read(const std::string& text) {
  Result<ClientMessage> message = ParseClientMessage(text);
  EXPECT_TRUE(message.ok()) << text << ": " << message.status().message();
  return message.ok() ? *message : ClientMessage(PingMessage{});
}

TEST(ClientMessage, NotAJsonObjectIsRefused) {
  for (const char* text : {"", "{", "[]", "\"ping\"", "{\"type\":\"ping\"} x"}) {
    Result<ClientMessage> message = ParseClientMessage(text);
    ASSERT_FALSE(message.ok()) << text;
    EXPECT_EQ(message.status().code(), Code::kProtocol);
    EXPECT_EQ(message.status().message(), "Messages are JSON objects");
  }
}

TEST(ClientMessage, Ping) {
  EXPECT_TRUE(std::holds_alternative<PingMessage>(Read(R"({"type":"ping","extra":1})")));
}

TEST(ClientMessage, AuthenticateReadsItsStrings) {
  const auto basic = std::get<AuthenticateMessage>(
      Read(R"({"type":"authenticate","method":"basic","username":"alice","password":"pw"})"));
  EXPECT_EQ(basic.method, "basic");
  EXPECT_EQ(basic.username, "alice");
  EXPECT_EQ(basic.password, "pw");
  EXPECT_EQ(basic.token, "");
  // A field that is not a string reads as "".
  const auto jwt = std::get<AuthenticateMessage>(Read(R"({"type":"authenticate","method":"jwt","token":7})"));
  EXPECT_EQ(jwt.method, "jwt");
  EXPECT_EQ(jwt.token, "");
}

TEST(ClientMessage, SubscribeReadsTheRequestAndItsOptions) {
  const auto subscribe = std::get<SubscribeMessage>(Read(
      R"({"type":"subscribe","subscription":{"id":"s1","sql":"SELECT * FROM app.t",)"
      R"("options":{"last_rows":10,"from_seq_id":12345,"batch_size":50}}})"));
  ASSERT_TRUE(subscribe.request.ok());
  EXPECT_EQ(subscribe.request->id, "s1");
  EXPECT_EQ(subscribe.request->sql, "SELECT * FROM app.t");
  EXPECT_EQ(subscribe.request->options_json, R"({"last_rows":10,"from_seq_id":12345,"batch_size":50})");
  EXPECT_EQ(subscribe.request->last_rows, 10);
  EXPECT_EQ(subscribe.request->from_seq, 12345);
  EXPECT_EQ(subscribe.request->batch_size, 50);
}

TEST(ClientMessage, SubscribeDefaultsAndBounds) {
  const auto plain = std::get<SubscribeMessage>(Read(R"({"type":"subscribe","subscription":{"id":"s"}})"));
  ASSERT_TRUE(plain.request.ok());
  EXPECT_EQ(plain.request->options_json, "{}");
  EXPECT_EQ(plain.request->last_rows, std::nullopt);
  EXPECT_EQ(plain.request->from_seq, std::nullopt);
  EXPECT_EQ(plain.request->batch_size, 1000);
  const auto big = std::get<SubscribeMessage>(
      Read(R"({"type":"subscribe","subscription":{"options":{"batch_size":99999999,"last_rows":1.5}}})"));
  ASSERT_TRUE(big.request.ok());
  EXPECT_EQ(big.request->batch_size, 10000);
  EXPECT_EQ(big.request->last_rows, std::nullopt);  // not an integer
  const auto small = std::get<SubscribeMessage>(
      Read(R"({"type":"subscribe","subscription":{"options":{"batch_size":-5}}})"));
  EXPECT_EQ(small.request->batch_size, 1);
}

// A number no double holds reads as infinity, which would show in system.live_queries as
// options that are no JSON.
TEST(ClientMessage, SubscribeOptionsOutOfRangeAreRefused) {
  const auto subscribe = std::get<SubscribeMessage>(
      Read(R"({"type":"subscribe","subscription":{"id":"s","options":{"x":1e999}}})"));
  ASSERT_FALSE(subscribe.request.ok());
  EXPECT_EQ(subscribe.request.status().code(), Code::kProtocol);
  EXPECT_EQ(subscribe.request.status().message(), "subscribe options hold a number out of range");
}

TEST(ClientMessage, SubscribeWithoutASubscriptionObjectIsRefused) {
  for (const char* text : {R"({"type":"subscribe"})", R"({"type":"subscribe","subscription":[]})"}) {
    const auto subscribe = std::get<SubscribeMessage>(Read(text));
    ASSERT_FALSE(subscribe.request.ok()) << text;
    EXPECT_EQ(subscribe.request.status().code(), Code::kProtocol);
    EXPECT_EQ(subscribe.request.status().message(), "subscribe needs a \"subscription\" object");
  }
}

TEST(ClientMessage, Unsubscribe) {
  EXPECT_EQ(std::get<UnsubscribeMessage>(Read(R"({"type":"unsubscribe","subscription_id":"s1"})")).subscription_id,
            "s1");
}

TEST(ClientMessage, UnknownTypesAreRefusedByName) {
  const auto unknown = std::get<UnknownMessage>(Read(R"({"type":"pong"})"));
  EXPECT_EQ(unknown.refusal.code(), Code::kProtocol);
  EXPECT_EQ(unknown.refusal.message(), "Unknown message type 'pong'");
  EXPECT_EQ(std::get<UnknownMessage>(Read(R"({"kind":"ping"})")).refusal.message(), "Unknown message type ''");
}

}  // namespace
}  // namespace kalam::live
