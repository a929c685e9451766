#include "common/status.h"

namespace kalam {

std::optional<Code> CodeNamed(std::string_view name) {
  for (int c = static_cast<int>(Code::kOk); c <= static_cast<int>(Code::kProtocol); ++c) {
    if (CodeName(static_cast<Code>(c)) == name) return static_cast<Code>(c);
  }
  return std::nullopt;
}

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kInvalidSql: return "INVALID_SQL";
    case Code::kSqlExecutionError: return "SQL_EXECUTION_ERROR";
    case Code::kEmptySql: return "EMPTY_SQL";
    case Code::kParamsWithBatch: return "PARAMS_WITH_BATCH";
    case Code::kInvalidParameter: return "INVALID_PARAMETER";
    case Code::kInvalidInput: return "INVALID_INPUT";
    case Code::kAlreadyExists: return "ALREADY_EXISTS";
    case Code::kConstraintViolation: return "CONSTRAINT_VIOLATION";
    case Code::kMissingAuthorization: return "MISSING_AUTHORIZATION";
    case Code::kInvalidAuthorizationHeader: return "INVALID_AUTHORIZATION_HEADER";
    case Code::kInvalidCredentials: return "INVALID_CREDENTIALS";
    case Code::kTokenExpired: return "TOKEN_EXPIRED";
    case Code::kInvalidToken: return "INVALID_TOKEN";
    case Code::kPermissionDenied: return "PERMISSION_DENIED";
    case Code::kNotFound: return "NOT_FOUND";
    case Code::kPayloadTooLarge: return "PAYLOAD_TOO_LARGE";
    case Code::kRateLimitExceeded: return "RATE_LIMIT_EXCEEDED";
    case Code::kInternalError: return "INTERNAL_ERROR";
    case Code::kStatementTimeout: return "STATEMENT_TIMEOUT";
    case Code::kServiceUnavailable: return "SERVICE_UNAVAILABLE";
    case Code::kTransactionConflict: return "TRANSACTION_CONFLICT";
    case Code::kTransactionAborted: return "TRANSACTION_ABORTED";
    case Code::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case Code::kQueryCancelled: return "QUERY_CANCELLED";
    case Code::kAuthRequired: return "AUTH_REQUIRED";
    case Code::kUnauthorized: return "UNAUTHORIZED";
    case Code::kInvalidSubscriptionId: return "INVALID_SUBSCRIPTION_ID";
    case Code::kSubscriptionLimitExceeded: return "SUBSCRIPTION_LIMIT_EXCEEDED";
    case Code::kUnsupported: return "UNSUPPORTED";
    case Code::kMessageTooLarge: return "MESSAGE_TOO_LARGE";
    case Code::kProtocol: return "PROTOCOL";
  }
  return "INTERNAL_ERROR";
}

int HttpStatus(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kMissingAuthorization:
    case Code::kInvalidAuthorizationHeader:
    case Code::kInvalidCredentials:
    case Code::kTokenExpired:
    case Code::kInvalidToken: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kPayloadTooLarge: return 413;
    case Code::kRateLimitExceeded: return 429;
    case Code::kInternalError: return 500;
    case Code::kStatementTimeout: return 408;
    case Code::kServiceUnavailable: return 503;
    case Code::kTransactionConflict: return 409;
    case Code::kResourceExhausted: return 507;
    default: return 400;
  }
}

}  // namespace kalam
