// The bytes of the Postgres wire protocol, version 3.0: backend messages are built here,
// frontend message bodies read here. Every message but the first a client sends is
//
//   type (1 byte) | length (int32, big-endian, counting itself and the body) | body
//
// and the start-up packets (StartupMessage, SSLRequest, CancelRequest) have no type byte:
//
//   length (int32) | code (int32: protocol version or request code) | body
//
// Strings are NUL-terminated UTF-8. Nothing here touches a socket.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kalam::pgwire {

// Codes of the start-up packets.
inline constexpr int32_t kProtocol30 = 196608;  // 3 << 16 | 0
inline constexpr int32_t kSslRequest = 80877103;
inline constexpr int32_t kGssEncRequest = 80877104;
inline constexpr int32_t kCancelRequest = 80877102;
// The largest start-up packet accepted, as PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
inline constexpr int32_t kMaxStartupPacket = 10000;

// Transaction status of ReadyForQuery.
enum class TxStatus : char { kIdle = 'I', kInTransaction = 'T', kFailed = 'E' };

// Big-endian integers appended to out.
void AppendInt16(std::string& out, int16_t v);
void AppendInt32(std::string& out, int32_t v);
void AppendInt64(std::string& out, int64_t v);

// One backend message, built field by field; the length is filled in by Finish.
class MessageBuilder {
 public:
  explicit MessageBuilder(char type);
  MessageBuilder& Int8(uint8_t v);
  MessageBuilder& Int16(int16_t v);
  MessageBuilder& Int32(int32_t v);
  MessageBuilder& CString(std::string_view s);  // s and a NUL
  MessageBuilder& Bytes(std::string_view s);     // s as is
  // Appends the finished message to out.
  void AppendTo(std::string& out);

 private:
  std::string bytes_;
};

// Messages the server sends whole. Each appends to out.
void AppendAuthentication(std::string& out, int32_t kind);  // 0 ok, 3 cleartext password
void AppendParameterStatus(std::string& out, std::string_view name, std::string_view value);
void AppendBackendKeyData(std::string& out, int32_t process_id, int32_t secret);
void AppendReadyForQuery(std::string& out, TxStatus status);
void AppendCommandComplete(std::string& out, std::string_view tag);
void AppendEmptyQueryResponse(std::string& out);
// ErrorResponse (severity ERROR or FATAL) or NoticeResponse (severity NOTICE, WARNING).
void AppendError(std::string& out, std::string_view severity, std::string_view sqlstate,
                 std::string_view message);
void AppendNotice(std::string& out, std::string_view sqlstate, std::string_view message,
                  std::string_view severity = "NOTICE");

// Reads a frontend message body front to back. A read past the end, or a string without
// its NUL, marks the reader bad and returns an empty value; check ok() once at the end.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : rest_(body) {}
  int32_t Int32();
  int16_t Int16();
  std::string_view CString();
  std::string_view Bytes(size_t n);
  bool ok() const { return ok_; }
  bool at_end() const { return rest_.empty(); }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

int32_t ReadInt32(const char* p);  // big-endian

// ---- Frontend message bodies, read whole. nullopt: the bytes are not the message the
// type says (the connection answers 08P01 and closes). Views point into the body.

// A StartupMessage's parameters (the body after length and code): name/value pairs up to
// an empty name. The first of a repeated name counts; protocol options (_pq_.*) are skipped.
std::optional<std::map<std::string, std::string>> ReadStartupParameters(std::string_view body);

// Query ('Q'): the text; bytes after its NUL are ignored.
std::optional<std::string_view> ReadQuery(std::string_view body);

// Parse ('P'): a prepared statement's name ("" the unnamed one), its text and the type
// OIDs of its first parameters (0: unspecified).
struct ParseMessage {
  std::string_view name;
  std::string_view query;
  std::vector<int32_t> param_types;
};
std::optional<ParseMessage> ReadParse(std::string_view body);

// Bind ('B'): a portal made of a prepared statement and its parameter values (nullopt:
// NULL), each in the format param_formats says (none: all text; one: all alike).
struct BindMessage {
  std::string_view portal;
  std::string_view statement;
  std::vector<int16_t> param_formats;  // a negative count reads as none
  std::vector<std::optional<std::string_view>> values;
  std::vector<int16_t> result_formats;  // a negative count reads as none
};
std::optional<BindMessage> ReadBind(std::string_view body);

// Describe ('D') and Close ('C'): kind 'S' (a prepared statement) or 'P' (a portal).
struct TargetMessage {
  char kind = 'S';
  std::string_view name;
};
std::optional<TargetMessage> ReadTarget(std::string_view body);

// Execute ('E'): a portal and the most rows to return (0 or less: all).
struct ExecuteMessage {
  std::string_view portal;
  int32_t max_rows = 0;
};
std::optional<ExecuteMessage> ReadExecute(std::string_view body);

// PasswordMessage ('p') answering AuthenticationCleartextPassword: the password; bytes
// after its NUL are ignored.
std::optional<std::string_view> ReadPassword(std::string_view body);

// SASLInitialResponse ('p'): the mechanism and the client-first message (a length of -1,
// no message, reads as empty).
struct SaslInitialResponse {
  std::string_view mechanism;
  std::string_view client_first;
};
std::optional<SaslInitialResponse> ReadSaslInitialResponse(std::string_view body);

}  // namespace kalam::pgwire
