// Who runs a statement (Caller): the authenticated user, fixed for the whole request. Scans
// bind it into their key ranges; nothing in SQL can change it. Where a request comes from
// (Peer).
#pragma once

#include <cstdint>
#include <string>

#include "common/role.h"

namespace kalam::auth {

struct Caller {
  std::string user_id;
  std::string username;
  Role role = Role::kUser;
  // The user's token_version when these credentials were checked: tokens are issued to the
  // caller only while it still stands (a password changed meanwhile refuses them).
  int64_t token_version = 0;
};

// Whether the caller may see a user's record (system.users, pg_catalog.pg_roles): admins
// every user's, others only their own.
inline bool MaySeeUser(const Caller& caller, const std::string& user_id) {
  return IsAdmin(caller.role) || user_id == caller.user_id;
}

// The client's end of the connection.
struct Peer {
  // Its IP address as text; for IPv6, its /64 network (one host usually holds a whole /64).
  // Failed sign-ins are counted per this key.
  std::string address;
  bool loopback = false;  // 127.0.0.0/8 or ::1
};

}  // namespace kalam::auth
