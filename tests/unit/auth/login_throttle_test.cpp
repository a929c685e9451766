#include "auth/login_throttle.h"

#include <gtest/gtest.h>

#include <string>

namespace kalam::auth {
namespace {

using std::chrono::seconds;
const ThrottleClock::time_point kStart{};

TEST(FailureCounterTest, RefusesAfterMaxFailuresForOneWindow) {
  FailureCounter counter(3, seconds(60), 100);
  counter.Fail("alice", kStart);
  counter.Fail("alice", kStart + seconds(1));
  EXPECT_EQ(counter.RefusedFor("alice", kStart + seconds(2)), seconds(0));
  counter.Fail("alice", kStart + seconds(2));
  EXPECT_EQ(counter.RefusedFor("alice", kStart + seconds(2)), seconds(60));
  EXPECT_EQ(counter.RefusedFor("alice", kStart + seconds(61)), seconds(1));
  EXPECT_EQ(counter.RefusedFor("bob", kStart + seconds(3)), seconds(0));
  // Refused for one window from the failure that reached the limit, then free again.
  EXPECT_EQ(counter.RefusedFor("alice", kStart + seconds(62)), seconds(0));
  counter.Fail("alice", kStart + seconds(63));
  EXPECT_EQ(counter.RefusedFor("alice", kStart + seconds(63)), seconds(0));
}

TEST(FailureCounterTest, FailuresOlderThanTheWindowDoNotCount) {
  FailureCounter counter(3, seconds(60), 100);
  counter.Fail("alice", kStart);
  counter.Fail("alice", kStart + seconds(10));
  counter.Fail("alice", kStart + seconds(70));  // a new window begins
  counter.Fail("alice", kStart + seconds(71));
  EXPECT_EQ(counter.RefusedFor("alice", kStart + seconds(72)), seconds(0));
  counter.Fail("alice", kStart + seconds(72));
  EXPECT_GT(counter.RefusedFor("alice", kStart + seconds(72)), seconds(0));
}

TEST(FailureCounterTest, AttemptsWhileRefusedDoNotExtendIt) {
  FailureCounter counter(1, seconds(60), 100);
  counter.Fail("alice", kStart);
  counter.Fail("alice", kStart + seconds(30));
  EXPECT_EQ(counter.RefusedFor("alice", kStart + seconds(30)), seconds(30));
}

TEST(FailureCounterTest, ForgetClearsTheCount) {
  FailureCounter counter(2, seconds(60), 100);
  counter.Fail("alice", kStart);
  counter.Forget("alice");
  counter.Fail("alice", kStart + seconds(1));
  EXPECT_EQ(counter.RefusedFor("alice", kStart + seconds(1)), seconds(0));
  EXPECT_EQ(counter.size(), 1u);
}

TEST(FailureCounterTest, ZeroIsOff) {
  FailureCounter counter(0, seconds(60), 100);
  for (int i = 0; i < 100; ++i) counter.Fail("alice", kStart);
  EXPECT_EQ(counter.RefusedFor("alice", kStart), seconds(0));
  EXPECT_EQ(counter.size(), 0u);
}

TEST(FailureCounterTest, HoldsAtMostCapacityKeysForgettingTheLeastRecentlyTouched) {
  FailureCounter counter(1, seconds(60), 3);
  counter.Fail("a", kStart);
  counter.Fail("b", kStart);
  counter.Fail("c", kStart);
  // "a" is touched (a refused try), so "b" is now the one touched longest ago.
  EXPECT_GT(counter.RefusedFor("a", kStart + seconds(1)), seconds(0));
  counter.Fail("d", kStart + seconds(1));
  EXPECT_EQ(counter.size(), 3u);
  EXPECT_EQ(counter.RefusedFor("b", kStart + seconds(1)), seconds(0));
  EXPECT_GT(counter.RefusedFor("a", kStart + seconds(1)), seconds(0));
  EXPECT_GT(counter.RefusedFor("c", kStart + seconds(1)), seconds(0));
  EXPECT_GT(counter.RefusedFor("d", kStart + seconds(1)), seconds(0));
  // However many keys are tried.
  for (int i = 0; i < 10000; ++i) counter.Fail("k" + std::to_string(i), kStart + seconds(2));
  EXPECT_EQ(counter.size(), 3u);
}

TEST(FailureCounterTest, ExpiredKeysAreDroppedWhenLookedUp) {
  FailureCounter counter(5, seconds(60), 100);
  counter.Fail("alice", kStart);
  EXPECT_EQ(counter.RefusedFor("alice", kStart + seconds(61)), seconds(0));
  EXPECT_EQ(counter.size(), 0u);
}

Config::Auth Limits(int64_t per_user, int64_t per_address) {
  Config::Auth config;
  config.max_failed_logins_per_user = per_user;
  config.max_failed_logins_per_address = per_address;
  config.failed_login_window_secs = 60;
  return config;
}

const Peer kRemote{"203.0.113.7", false};
const Peer kLocal{"127.0.0.1", true};

TEST(LoginThrottleTest, RefusesAUserFromEveryAddress) {
  LoginThrottle throttle(Limits(2, 0));
  throttle.Failed("alice", kRemote, kStart);
  throttle.Failed("alice", {"198.51.100.1", false}, kStart);
  const Status refused = throttle.Check("alice", {"192.0.2.9", false}, kStart);
  EXPECT_EQ(refused.code(), Code::kRateLimitExceeded);
  EXPECT_NE(refused.message().find("60 s"), std::string::npos) << refused.message();
  EXPECT_TRUE(throttle.Check("bob", kRemote, kStart).ok());
}

TEST(LoginThrottleTest, RefusesAnAddressForEveryName) {
  LoginThrottle throttle(Limits(0, 3));
  throttle.Failed("a", kRemote, kStart);
  throttle.Failed("b", kRemote, kStart);
  throttle.Failed("c", kRemote, kStart);
  EXPECT_EQ(throttle.Check("d", kRemote, kStart).code(), Code::kRateLimitExceeded);
  EXPECT_TRUE(throttle.Check("d", {"198.51.100.1", false}, kStart).ok());
}

TEST(LoginThrottleTest, SuccessForgetsTheUsersFailuresButNotTheAddresses) {
  LoginThrottle throttle(Limits(2, 3));
  throttle.Failed("alice", kRemote, kStart);
  throttle.Failed("alice", kRemote, kStart);  // alice refused; the address has 2 of 3
  throttle.Succeeded("alice");
  EXPECT_TRUE(throttle.Check("alice", {"198.51.100.1", false}, kStart).ok());
  throttle.Failed("bob", kRemote, kStart);
  EXPECT_EQ(throttle.Check("carol", kRemote, kStart).code(), Code::kRateLimitExceeded);
}

TEST(LoginThrottleTest, NamesLongerThanAnyUsersAreCountedByTheirFirst64Bytes) {
  LoginThrottle throttle(Limits(2, 0));
  const std::string prefix(64, 'x');
  throttle.Failed(prefix + std::string(100000, 'a'), kRemote, kStart);
  throttle.Failed(prefix + "b", kRemote, kStart);
  EXPECT_EQ(throttle.Check(prefix, kRemote, kStart).code(), Code::kRateLimitExceeded);
}

TEST(LoginThrottleTest, RootFromLoopbackIsNeverRefusedNorCounted) {
  LoginThrottle throttle(Limits(1, 1));
  for (int i = 0; i < 10; ++i) throttle.Failed("root", kLocal, kStart);
  EXPECT_TRUE(throttle.Check("root", kLocal, kStart).ok());
  EXPECT_TRUE(throttle.Check("alice", kLocal, kStart).ok());  // root's failures did not count
  // Others' failures lock the loopback address, and root from elsewhere: not root from here.
  throttle.Failed("alice", kLocal, kStart);
  throttle.Failed("root", kRemote, kStart);
  EXPECT_EQ(throttle.Check("alice", kLocal, kStart).code(), Code::kRateLimitExceeded);
  EXPECT_EQ(throttle.Check("root", kRemote, kStart).code(), Code::kRateLimitExceeded);
  EXPECT_TRUE(throttle.Check("root", kLocal, kStart).ok());
}

}  // namespace
}  // namespace kalam::auth
