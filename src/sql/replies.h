// What KalamDB's own statements answer: a message with a count of rows, or a refusal that
// names the caller's role and what it may not do. Internal to sql/.
#pragma once

#include <cstdint>
#include <string>

#include "auth/caller.h"
#include "common/role.h"
#include "common/status.h"
#include "sql/executor.h"

namespace kalam::sql {

inline StatementResult Done(std::string message, uint64_t row_count = 0) {
  StatementResult r;
  r.message = std::move(message);
  r.row_count = row_count;
  return r;
}

inline Status Denied(const auth::Caller& caller, const std::string& what) {
  return {Code::kPermissionDenied, "Permission denied: role '" +
                                       std::string(auth::RoleName(caller.role)) + "' may not " +
                                       what};
}

}  // namespace kalam::sql
