#include "common/role.h"

namespace kalam::auth {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kUser: return "user";
    case Role::kService: return "service";
    case Role::kDba: return "dba";
    case Role::kSystem: return "system";
  }
  return "user";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "user") return Role::kUser;
  if (name == "service") return Role::kService;
  if (name == "dba") return Role::kDba;
  if (name == "system") return Role::kSystem;
  return std::nullopt;
}

}  // namespace kalam::auth
