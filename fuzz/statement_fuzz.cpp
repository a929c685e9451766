// KalamDB's own statements (CREATE NAMESPACE/TABLE/USER/TOPIC, SUBSCRIBE, CONSUME, ACK,
// KILL, BACKUP, transactions, EXECUTE AS, ...) parsed from arbitrary text: an error always
// has a code and a message; in a statement with PASSWORD it never shows a string
// literal's value (a literal before '=' is an option's name, which messages do show;
// elsewhere a wrong choice, such as a topic's payload, is shown); and spaces around the
// statement change nothing. Option values other than strings (whose bytes are the
// client's, UTF-8 or not) that JSON reads write back as JSON (the catalog refuses the
// others).
#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/sql_lexer.h"
#include "common/text.h"
#include "json_near.h"
#include "sql/kalam_statement.h"

namespace {

// A value that fuzzing puts in string literals (the seeds' passwords).
constexpr std::string_view kSecret = "hunter2";

// Occurrences of part (lower case) in text, in any case.
size_t Count(std::string_view text, std::string_view part) {
  const std::string lower = kalam::Lower(text);
  size_t n = 0;
  for (size_t at = lower.find(part); at != std::string::npos; at = lower.find(part, at + 1)) ++n;
  return n;
}

// Whether text has a PASSWORD and every kSecret of it is inside a string literal that is
// a value.
bool SecretOnlyInValues(std::string_view text) {
  const std::vector<kalam::sql::Token> tokens = kalam::sql::Tokenize(text);
  if (std::none_of(tokens.begin(), tokens.end(), [](const kalam::sql::Token& token) {
        return token.kind == kalam::sql::TokenKind::kWord && kalam::Lower(token.text) == "password";
      })) {
    return false;
  }
  size_t in_values = 0;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const bool names_an_option = tokens[i + 1].kind == kalam::sql::TokenKind::kSymbol && tokens[i + 1].text == "=";
    if (tokens[i].kind == kalam::sql::TokenKind::kString && !names_an_option) {
      in_values += Count(tokens[i].source, kSecret);
    }
  }
  return in_values == Count(text, kSecret);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = kalam::sql::ParseKalamStatement(text);
  if (!parsed.ok()) {
    if (parsed.status().code() == kalam::Code::kOk || parsed.status().message().empty()) __builtin_trap();
    if (Count(parsed.status().message(), kSecret) > 0 && SecretOnlyInValues(text)) {
      __builtin_trap();
    }
  }
  if (parsed.ok() && parsed->has_value()) {
    if (const auto* alter = std::get_if<kalam::sql::AlterNamespace>(&**parsed)) {
      for (const auto& [key, value] : alter->options) {
        if (value.starts_with('"')) continue;
        boost::system::error_code ec;
        const boost::json::value read = boost::json::parse(value, ec);
        if (ec) continue;  // past Boost.JSON's limits (2e-99999...): the catalog refuses it
        const boost::json::value again = boost::json::parse(boost::json::serialize(read), ec);
        if (ec || !kalam::fuzz::Near(again, read)) __builtin_trap();
      }
    }
  }
  const std::string spaced = " " + std::string(text) + " ";
  const auto again = kalam::sql::ParseKalamStatement(spaced);
  if (again.ok() != parsed.ok()) __builtin_trap();
  if (parsed.ok()) {
    if (parsed->has_value() != again->has_value()) __builtin_trap();
    if (parsed->has_value() && (*parsed)->index() != (*again)->index()) __builtin_trap();
  } else if (again.status().code() != parsed.status().code() ||
             again.status().message() != parsed.status().message()) {
    __builtin_trap();
  }
  return 0;
}
