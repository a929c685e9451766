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
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace kalam::pgwire
