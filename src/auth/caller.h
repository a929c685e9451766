// Who runs a statement: the authenticated user, fixed for the whole request. Scans bind
// it into their key ranges; nothing in SQL can change it.
#pragma once

#include <string>

#include "common/role.h"

namespace kalam::auth {

struct Caller {
  std::string user_id;
  std::string username;
  Role role = Role::kUser;
};

}  // namespace kalam::auth
