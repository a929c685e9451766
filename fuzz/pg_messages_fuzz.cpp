// What a Postgres client sends, as one stream: a start-up packet, then frames of
// type | length | body, each body read as the message its type says. Whatever is read
// points into its own body, and what was read, written again, reads back the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pgwire/protocol.h"

namespace {

using namespace kalam::pgwire;

bool Within(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

// The body the builder wrote (without its type and length).
std::string BodyOf(MessageBuilder& builder) {
  std::string out;
  builder.AppendTo(out);
  return out.substr(5);
}

void CheckParse(std::string_view body) {
  const std::optional<ParseMessage> m = ReadParse(body);
  if (!m) return;
  Check(Within(m->name, body) && Within(m->query, body));
  MessageBuilder again('P');
  again.CString(m->name).CString(m->query).Int16(static_cast<int16_t>(m->param_types.size()));
  for (const int32_t type : m->param_types) again.Int32(type);
  Check(BodyOf(again) == body);  // every byte of a Parse is read
}

void CheckBind(std::string_view body) {
  const std::optional<BindMessage> m = ReadBind(body);
  if (!m) return;
  Check(Within(m->portal, body) && Within(m->statement, body));
  for (const auto& value : m->values) Check(!value || Within(*value, body));
  MessageBuilder again('B');
  again.CString(m->portal).CString(m->statement).Int16(static_cast<int16_t>(m->param_formats.size()));
  for (const int16_t f : m->param_formats) again.Int16(f);
  again.Int16(static_cast<int16_t>(m->values.size()));
  for (const auto& value : m->values) {
    again.Int32(value ? static_cast<int32_t>(value->size()) : -1);
    if (value) again.Bytes(*value);
  }
  again.Int16(static_cast<int16_t>(m->result_formats.size()));
  for (const int16_t f : m->result_formats) again.Int16(f);
  const std::string written = BodyOf(again);
  const std::optional<BindMessage> reread = ReadBind(written);
  Check(reread && reread->portal == m->portal && reread->statement == m->statement &&
        reread->param_formats == m->param_formats && reread->values == m->values &&
        reread->result_formats == m->result_formats);
  Check(written.size() == body.size());  // only a negative count or length is written otherwise
}

void CheckFrame(char type, std::string_view body) {
  switch (type) {
    case 'Q':
      if (auto text = ReadQuery(body)) Check(Within(*text, body) && text->find('\0') == std::string_view::npos);
      break;
    case 'P':
      CheckParse(body);
      break;
    case 'B':
      CheckBind(body);
      break;
    case 'D':
    case 'C':
      if (auto m = ReadTarget(body)) {
        Check((m->kind == 'S' || m->kind == 'P') && Within(m->name, body) && m->name.size() + 2 == body.size());
      }
      break;
    case 'E':
      if (auto m = ReadExecute(body)) Check(Within(m->portal, body) && m->portal.size() + 5 == body.size());
      break;
    case 'p':
      if (auto password = ReadPassword(body)) Check(Within(*password, body));
      if (auto m = ReadSaslInitialResponse(body)) {
        Check(Within(m->mechanism, body) && Within(m->client_first, body));
        Check(m->mechanism.size() + 1 + 4 + m->client_first.size() == body.size());
      }
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The start-up packet: length (counting itself) and code, then its body.
  if (in.size() < 8) return 0;
  const int32_t length = ReadInt32(in.data());
  if (length < 8 || length > kMaxStartupPacket || static_cast<size_t>(length) > in.size()) return 0;
  const std::string_view startup = in.substr(8, static_cast<size_t>(length) - 8);
  if (auto parameters = ReadStartupParameters(startup)) {
    for (const auto& [name, value] : *parameters) {
      Check(!name.empty() && !name.starts_with("_pq_.") && name.find('\0') == std::string::npos &&
            value.find('\0') == std::string::npos && name.size() + value.size() + 2 <= startup.size());
    }
  }
  in.remove_prefix(static_cast<size_t>(length));
  // The frames, as far as they are whole.
  while (in.size() >= 5) {
    const int32_t frame_length = ReadInt32(in.data() + 1);
    if (frame_length < 4 || static_cast<size_t>(frame_length) - 4 > in.size() - 5) break;
    CheckFrame(in[0], in.substr(5, static_cast<size_t>(frame_length) - 4));
    in.remove_prefix(1 + static_cast<size_t>(frame_length));
  }
  return 0;
}
