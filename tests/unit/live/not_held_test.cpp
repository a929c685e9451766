// Cluster mode: a subscription to rows of a shard the node holds no replica of is refused
// naming a node that holds it, and the WebSocket reads that node back from the refusal to
// relay the subscription there. The two must agree; nothing else names a node.
#include <gtest/gtest.h>

#include <string>

#include "live/subscribe.h"

namespace kalam::live {
namespace {

TEST(NotHeldHere, NamesTheHolderAndReadsItBack) {
  const Status refusal = NotHeldHere(7, "node-b", std::string("10.0.0.2:8080"));
  EXPECT_EQ(refusal.code(), Code::kServiceUnavailable);
  EXPECT_NE(refusal.message().find("shard 7"), std::string::npos) << refusal.message();
  EXPECT_NE(refusal.message().find("(10.0.0.2:8080)"), std::string::npos) << refusal.message();
  EXPECT_EQ(HolderNamedIn(refusal), "node-b");
  EXPECT_EQ(HolderNamedIn(NotHeldHere(0, "n1", std::nullopt)), "n1");
}

TEST(NotHeldHere, NoHolderKnownNamesNone) {
  const Status refusal = NotHeldHere(3, "", std::nullopt);
  EXPECT_EQ(refusal.code(), Code::kServiceUnavailable);
  EXPECT_EQ(HolderNamedIn(refusal), std::nullopt);
}

TEST(NotHeldHere, OtherRefusalsNameNoHolder) {
  // The same words under another code, cut short, or with an empty name are not a holder.
  EXPECT_EQ(HolderNamedIn(Status(Code::kInvalidSql, ": subscribe through node 'x'")), std::nullopt);
  EXPECT_EQ(HolderNamedIn(Status(Code::kServiceUnavailable, "no leader: subscribe through node 'x")), std::nullopt);
  EXPECT_EQ(HolderNamedIn(Status(Code::kServiceUnavailable, ": subscribe through node ''")), std::nullopt);
  EXPECT_EQ(HolderNamedIn(Status(Code::kServiceUnavailable, "shard 1 has no leader")), std::nullopt);
  EXPECT_EQ(HolderNamedIn(Status::Ok()), std::nullopt);
}

}  // namespace
}  // namespace kalam::live
