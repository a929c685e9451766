// The node's one Raft port ([cluster] raft_port), shared by all its shard groups.
//
// libraft talks to its peers through a transport (connect, accept); its own TCP transport
// binds one address per group, and a node holds dozens of groups. This one listens once:
// every connection opens with a handshake naming the shard its group serves, the sender's
// Raft id and address, and is handed to that shard's group; a shard this node does not
// run (yet) gets its connection closed, and the sender's library retries later.
//
// Handshake, little-endian 64-bit words: magic "KALAMRFT", shard, Raft id, address length
// (the address's bytes plus its NUL, padded to 8), then the address.
//
// REQUIRES: everything here runs on the thread of the libuv loop it was made with.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

struct uv_loop_s;
struct raft_uv_transport;

namespace kalam::cluster {

class RaftPort {
 public:
  // Listens on host:port (an IPv4 address) on loop.
  static Result<std::unique_ptr<RaftPort>> Listen(uv_loop_s* loop, const std::string& host, uint16_t port);
  ~RaftPort();
  RaftPort(const RaftPort&) = delete;
  RaftPort& operator=(const RaftPort&) = delete;

  // Fills transport in for shard's group: its connections go through this port. The
  // transport's state is released by Release, after the library's close of it has
  // finished (after raft_close's callback).
  void Attach(raft_uv_transport* transport, uint32_t shard);
  static void Release(raft_uv_transport* transport);

  // Stops listening and drops the handshakes under way; done runs once every handle of
  // the port is closed (on a later turn of the loop). Groups are closed before.
  void Close(std::function<void()> done);

  struct Impl;

 private:
  explicit RaftPort(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kalam::cluster
