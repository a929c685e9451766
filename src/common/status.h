// One error type for the whole project: an API error code and a human message.
// Exceptions do not cross module boundaries; functions return Status or Result<T>.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kalam {

// The error codes of the HTTP API and the WebSocket protocol (docs/api.md).
enum class Code {
  kOk,
  kInvalidSql,
  kSqlExecutionError,
  kEmptySql,
  kParamsWithBatch,
  kInvalidParameter,
  kInvalidInput,
  kAlreadyExists,
  kConstraintViolation,
  kMissingAuthorization,
  kInvalidAuthorizationHeader,
  kInvalidCredentials,
  kTokenExpired,
  kInvalidToken,
  kPermissionDenied,
  kNotFound,
  kPayloadTooLarge,
  kRateLimitExceeded,
  kInternalError,
  kStatementTimeout,    // the statement ran past [limits] statement_timeout_ms (408)
  kServiceUnavailable,  // the server is at [server] max_connections, or shutting down (503)
  kTransactionConflict,  // a transaction wrote a row another one changed and committed first (409)
  kTransactionAborted,   // a statement after an error in the transaction, or it idled too long
  kResourceExhausted,    // past a limit on what one statement or transaction may hold (507)
  kQueryCancelled,       // KILL QUERY, or the client went away, stopped the statement (400)
  // Live queries: sent on the WebSocket, and by SUBSCRIBE TO over HTTP (as 400).
  kAuthRequired,
  kUnauthorized,
  kInvalidSubscriptionId,
  kSubscriptionLimitExceeded,
  kUnsupported,
  kMessageTooLarge,
  kProtocol,
};

// "INVALID_SQL", ...
std::string_view CodeName(Code code);
// The code named so (the inverse of CodeName); nullopt for no code's name.
std::optional<Code> CodeNamed(std::string_view name);
// The HTTP status of the code (docs/api.md).
int HttpStatus(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or an error. REQUIRES: ok() before value().
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design
  Result(Code code, std::string message) : status_(code, std::move(message)) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace kalam

// Returns the status from the enclosing function when it is an error.
#define KALAM_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::kalam::Status kalam_status_ = (expr);  \
    if (!kalam_status_.ok()) return kalam_status_; \
  } while (0)
