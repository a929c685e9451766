#include "pgwire/protocol.h"

#include <algorithm>

namespace kalam::pgwire {

void AppendInt16(std::string& out, int16_t v) {
  const auto u = static_cast<uint16_t>(v);
  out += static_cast<char>(u >> 8);
  out += static_cast<char>(u & 0xff);
}

void AppendInt32(std::string& out, int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((u >> shift) & 0xff);
}

void AppendInt64(std::string& out, int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((u >> shift) & 0xff);
}

MessageBuilder::MessageBuilder(char type) {
  bytes_.push_back(type);
  bytes_.append(4, '\0');  // the length, set by AppendTo
}

MessageBuilder& MessageBuilder::Int8(uint8_t v) {
  bytes_.push_back(static_cast<char>(v));
  return *this;
}

MessageBuilder& MessageBuilder::Int16(int16_t v) {
  AppendInt16(bytes_, v);
  return *this;
}

MessageBuilder& MessageBuilder::Int32(int32_t v) {
  AppendInt32(bytes_, v);
  return *this;
}

MessageBuilder& MessageBuilder::CString(std::string_view s) {
  bytes_.append(s);
  bytes_.push_back('\0');
  return *this;
}

MessageBuilder& MessageBuilder::Bytes(std::string_view s) {
  bytes_.append(s);
  return *this;
}

void MessageBuilder::AppendTo(std::string& out) {
  const auto length = static_cast<uint32_t>(bytes_.size() - 1);
  for (int i = 0; i < 4; ++i) bytes_[1 + i] = static_cast<char>(length >> (24 - 8 * i));
  out.append(bytes_);
}

void AppendAuthentication(std::string& out, int32_t kind) {
  MessageBuilder('R').Int32(kind).AppendTo(out);
}

void AppendParameterStatus(std::string& out, std::string_view name, std::string_view value) {
  MessageBuilder('S').CString(name).CString(value).AppendTo(out);
}

void AppendBackendKeyData(std::string& out, int32_t process_id, int32_t secret) {
  MessageBuilder('K').Int32(process_id).Int32(secret).AppendTo(out);
}

void AppendReadyForQuery(std::string& out, TxStatus status) {
  MessageBuilder('Z').Int8(static_cast<uint8_t>(status)).AppendTo(out);
}

void AppendCommandComplete(std::string& out, std::string_view tag) {
  MessageBuilder('C').CString(tag).AppendTo(out);
}

void AppendEmptyQueryResponse(std::string& out) { MessageBuilder('I').AppendTo(out); }

namespace {

void AppendFields(std::string& out, char type, std::string_view severity,
                  std::string_view sqlstate, std::string_view message) {
  MessageBuilder m(type);
  m.Int8('S').CString(severity).Int8('V').CString(severity);
  m.Int8('C').CString(sqlstate).Int8('M').CString(message).Int8(0);
  m.AppendTo(out);
}

}  // namespace

void AppendError(std::string& out, std::string_view severity, std::string_view sqlstate,
                 std::string_view message) {
  AppendFields(out, 'E', severity, sqlstate, message);
}

void AppendNotice(std::string& out, std::string_view sqlstate, std::string_view message,
                  std::string_view severity) {
  AppendFields(out, 'N', severity, sqlstate, message);
}

int32_t ReadInt32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int32_t>((uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) |
                              (uint32_t{u[2]} << 8) | uint32_t{u[3]});
}

int32_t BodyReader::Int32() {
  if (rest_.size() < 4) {
    ok_ = false;
    return 0;
  }
  const int32_t v = ReadInt32(rest_.data());
  rest_.remove_prefix(4);
  return v;
}

int16_t BodyReader::Int16() {
  if (rest_.size() < 2) {
    ok_ = false;
    return 0;
  }
  const auto* u = reinterpret_cast<const unsigned char*>(rest_.data());
  rest_.remove_prefix(2);
  return static_cast<int16_t>((u[0] << 8) | u[1]);
}

std::string_view BodyReader::CString() {
  const size_t nul = rest_.find('\0');
  if (nul == std::string_view::npos) {
    ok_ = false;
    rest_ = {};
    return {};
  }
  const std::string_view s = rest_.substr(0, nul);
  rest_.remove_prefix(nul + 1);
  return s;
}

std::string_view BodyReader::Bytes(size_t n) {
  if (rest_.size() < n) {
    ok_ = false;
    rest_ = {};
    return {};
  }
  const std::string_view s = rest_.substr(0, n);
  rest_.remove_prefix(n);
  return s;
}

std::optional<std::map<std::string, std::string>> ReadStartupParameters(std::string_view body) {
  std::map<std::string, std::string> parameters;
  BodyReader reader(body);
  while (reader.ok() && !reader.at_end()) {
    const std::string_view name = reader.CString();
    if (name.empty()) break;  // the terminating NUL
    const std::string_view value = reader.CString();
    if (name.starts_with("_pq_.")) continue;  // protocol options: none known
    parameters.emplace(name, value);
  }
  if (!reader.ok()) return std::nullopt;
  return parameters;
}

std::optional<std::string_view> ReadQuery(std::string_view body) {
  BodyReader reader(body);
  const std::string_view text = reader.CString();
  if (!reader.ok()) return std::nullopt;
  return text;
}

std::optional<ParseMessage> ReadParse(std::string_view body) {
  BodyReader reader(body);
  ParseMessage message;
  message.name = reader.CString();
  message.query = reader.CString();
  const int16_t count = reader.Int16();
  for (int16_t i = 0; i < count && reader.ok(); ++i) message.param_types.push_back(reader.Int32());
  if (!reader.ok() || !reader.at_end() || count < 0) return std::nullopt;
  return message;
}

namespace {

// Bind's format codes: a count (a negative one reads as none), then the codes.
std::vector<int16_t> FormatCodes(BodyReader& reader) {
  std::vector<int16_t> formats(static_cast<size_t>(std::max<int16_t>(reader.Int16(), 0)));
  for (int16_t& f : formats) f = reader.Int16();
  return formats;
}

}  // namespace

std::optional<BindMessage> ReadBind(std::string_view body) {
  BodyReader reader(body);
  BindMessage message;
  message.portal = reader.CString();
  message.statement = reader.CString();
  message.param_formats = FormatCodes(reader);
  const int16_t param_count = reader.Int16();
  for (int16_t i = 0; i < param_count && reader.ok(); ++i) {
    const int32_t length = reader.Int32();
    if (length < 0) {
      message.values.emplace_back(std::nullopt);
    } else {
      message.values.emplace_back(reader.Bytes(static_cast<size_t>(length)));
    }
  }
  message.result_formats = FormatCodes(reader);
  if (!reader.ok() || !reader.at_end() || param_count < 0) return std::nullopt;
  return message;
}

std::optional<TargetMessage> ReadTarget(std::string_view body) {
  BodyReader reader(body);
  const std::string_view kind = reader.Bytes(1);
  TargetMessage message;
  message.name = reader.CString();
  if (!reader.ok() || !reader.at_end() || (kind != "S" && kind != "P")) return std::nullopt;
  message.kind = kind[0];
  return message;
}

std::optional<ExecuteMessage> ReadExecute(std::string_view body) {
  BodyReader reader(body);
  ExecuteMessage message;
  message.portal = reader.CString();
  message.max_rows = reader.Int32();
  if (!reader.ok() || !reader.at_end()) return std::nullopt;
  return message;
}

std::optional<std::string_view> ReadPassword(std::string_view body) { return ReadQuery(body); }

std::optional<SaslInitialResponse> ReadSaslInitialResponse(std::string_view body) {
  BodyReader reader(body);
  SaslInitialResponse message;
  message.mechanism = reader.CString();
  const int32_t length = reader.Int32();
  message.client_first = reader.Bytes(length < 0 ? 0 : static_cast<size_t>(length));
  if (!reader.ok() || !reader.at_end()) return std::nullopt;
  return message;
}

}  // namespace kalam::pgwire
