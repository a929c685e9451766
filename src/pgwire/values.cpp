#include "pgwire/values.h"

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/encoding.h"
#include "common/text.h"
#include "pgwire/protocol.h"

namespace kalam::pgwire {

namespace {

constexpr int64_t kPostgresEpochDays = 10957;  // 2000-01-01 in days since 1970-01-01
constexpr int64_t kMicrosPerDay = 86'400'000'000;

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's
// algorithms, exact for every year).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

// n decimal digits at text[pos...]; false when they are not all digits.
bool Digits(std::string_view text, size_t pos, size_t n, int64_t& value) {
  if (pos + n > text.size()) return false;
  value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

// YYYY-MM-DD: days since 1970-01-01.
bool ParseDate(std::string_view text, int64_t& days) {
  int64_t y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !Digits(text, 0, 4, y) ||
      !Digits(text, 5, 2, m) || !Digits(text, 8, 2, d) || m < 1 || m > 12 || d < 1 || d > 31) {
    return false;
  }
  days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

// HH:MM:SS[.f{1,9}]: microseconds since midnight (digits past the sixth are dropped).
bool ParseTime(std::string_view text, int64_t& micros) {
  int64_t h = 0, mi = 0, s = 0;
  if (text.size() < 8 || text[2] != ':' || text[5] != ':' || !Digits(text, 0, 2, h) ||
      !Digits(text, 3, 2, mi) || !Digits(text, 6, 2, s) || h > 24 || mi > 59 || s > 60) {
    return false;
  }
  int64_t fraction = 0;
  if (text.size() > 8) {
    if (text[8] != '.' || text.size() == 9 || text.size() > 18) return false;
    int64_t digits = 0;
    const size_t n = text.size() - 9;
    if (!Digits(text, 9, n, digits)) return false;
    fraction = digits;
    for (size_t i = n; i < 6; ++i) fraction *= 10;
    for (size_t i = 6; i < n; ++i) fraction /= 10;
  }
  micros = ((h * 60 + mi) * 60 + s) * 1'000'000 + fraction;
  return true;
}

std::string DateText(int64_t days_since_1970) {
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(days_since_1970, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

std::string TimeText(int64_t micros) {
  const int64_t seconds = micros / 1'000'000;
  return fmt::format("{:02}:{:02}:{:02}.{:06}", seconds / 3600, seconds / 60 % 60, seconds % 60,
                     micros % 1'000'000);
}

// A timestamptz's text ("2026-01-02 03:04:05.6+01", "...Z", "...-05:30") as UTC without an
// offset: the engine's TIMESTAMP cast would drop the offset. nullopt when it is not that
// shape (the cast then reports it).
std::optional<std::string> UtcTimestampText(std::string_view text) {
  text = Trim(text);
  if (text.size() < 19 || (text[10] != ' ' && text[10] != 'T')) return std::nullopt;
  size_t zone = text.find_first_of("+-Z", 19);
  const std::string_view clock = text.substr(11, zone == std::string_view::npos ? std::string_view::npos : zone - 11);
  int64_t days = 0, micros = 0;
  if (!ParseDate(text.substr(0, 10), days) || !ParseTime(clock, micros)) return std::nullopt;
  int64_t offset_seconds = 0;
  if (zone != std::string_view::npos && text[zone] != 'Z') {
    std::string_view offset = text.substr(zone + 1);
    int64_t hours = 0, minutes = 0, seconds = 0;
    if (!Digits(offset, 0, 2, hours)) return std::nullopt;
    offset.remove_prefix(2);
    if (offset.starts_with(':')) offset.remove_prefix(1);
    if (!offset.empty() && !Digits(offset, 0, 2, minutes)) return std::nullopt;
    if (!offset.empty()) offset.remove_prefix(2);
    if (offset.starts_with(':')) offset.remove_prefix(1);
    if (!offset.empty() && (!Digits(offset, 0, 2, seconds) || offset.size() != 2)) return std::nullopt;
    offset_seconds = (text[zone] == '-' ? -1 : 1) * ((hours * 60 + minutes) * 60 + seconds);
  } else if (zone != std::string_view::npos && zone + 1 != text.size()) {
    return std::nullopt;  // something after Z
  }
  int64_t total = days * kMicrosPerDay + micros - offset_seconds * 1'000'000;
  int64_t day = total / kMicrosPerDay;
  int64_t in_day = total % kMicrosPerDay;
  if (in_day < 0) in_day += kMicrosPerDay, --day;
  return DateText(day) + " " + TimeText(in_day);
}

template <typename T>
T ReadBigEndian(std::string_view bytes) {
  using U = std::make_unsigned_t<T>;
  U v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<U>((v << 8) | static_cast<unsigned char>(bytes[i]));
  return static_cast<T>(v);
}

std::optional<std::string> HexDecode(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = LowerChar(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

// bytea's text input: \x followed by hex digits, or the escape form (\\ and \ooo octal).
std::optional<std::string> ByteaFromText(std::string_view text) {
  if (text.starts_with("\\x")) return HexDecode(text.substr(2));
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
    } else if (i + 1 < text.size() && text[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3' && text[i + 2] >= '0' &&
               text[i + 2] <= '7' && text[i + 3] >= '0' && text[i + 3] <= '7') {
      out += static_cast<char>((text[i + 1] - '0') << 6 | (text[i + 2] - '0') << 3 | (text[i + 3] - '0'));
      i += 3;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// DuckDB's BLOB literal: printable ASCII as is, every other byte as \xHH.
sql::SqlLiteral BlobLiteral(std::string_view bytes) {
  std::string text = "'";
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\'' && c != '\\') {
      text += c;
    } else {
      text += fmt::format("\\x{:02X}", u);
    }
  }
  text += "'::BLOB";
  return {std::move(text)};
}

sql::SqlLiteral Cast(std::string_view text, std::string_view type) {
  return {"CAST(" + SqlString(text) + " AS " + std::string(type) + ")"};
}

// A number in Postgres' numeric input syntax: [+-]digits[.digits][e[+-]digits], or NaN.
bool IsNumericText(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  size_t digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    size_t exponent = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++exponent;
    if (exponent == 0) return false;
  }
  return i == text.size();
}

Status BadValue(size_t number, std::string_view type, std::string_view why) {
  return {Code::kInvalidParameter, fmt::format("Parameter ${}: {} of type {}", number, why, type)};
}

sql::ParamValue FloatValue(double v) {
  if (std::isnan(v)) return Cast("NaN", "DOUBLE");
  if (std::isinf(v)) return Cast(v > 0 ? "Infinity" : "-Infinity", "DOUBLE");
  return v;
}

// numeric's binary form to its text: int16 ndigits, weight, sign, dscale, then ndigits
// base-10000 digits, the first of them weight groups left of the point.
std::optional<std::string> NumericFromBinary(std::string_view bytes) {
  if (bytes.size() < 8) return std::nullopt;
  const int16_t ndigits = ReadBigEndian<int16_t>(bytes);
  const int16_t weight = ReadBigEndian<int16_t>(bytes.substr(2));
  const auto sign = static_cast<uint16_t>(ReadBigEndian<int16_t>(bytes.substr(4)));
  const int16_t dscale = ReadBigEndian<int16_t>(bytes.substr(6));
  if (ndigits < 0 || dscale < 0 || bytes.size() != 8 + 2 * static_cast<size_t>(ndigits)) return std::nullopt;
  if (sign == 0xC000) return std::string("NaN");
  if (sign != 0 && sign != 0x4000) return std::nullopt;
  std::vector<int> groups(static_cast<size_t>(ndigits));
  for (int i = 0; i < ndigits; ++i) {
    groups[static_cast<size_t>(i)] = ReadBigEndian<int16_t>(bytes.substr(8 + 2 * static_cast<size_t>(i)));
    if (groups[static_cast<size_t>(i)] < 0 || groups[static_cast<size_t>(i)] > 9999) return std::nullopt;
  }
  auto group = [&](int w) {  // the group of weight w (weight of groups[0] is `weight`)
    const int index = weight - w;
    return index >= 0 && index < ndigits ? groups[static_cast<size_t>(index)] : 0;
  };
  std::string text = sign == 0x4000 ? "-" : "";
  if (weight < 0) {
    text += '0';
  } else {
    text += std::to_string(group(weight));
    for (int w = weight - 1; w >= 0; --w) text += fmt::format("{:04}", group(w));
  }
  if (dscale > 0) {
    std::string fraction;
    for (int w = -1; static_cast<int>(fraction.size()) < dscale; --w) fraction += fmt::format("{:04}", group(w));
    text += '.' + fraction.substr(0, static_cast<size_t>(dscale));
  }
  return text;
}

// Text as a string parameter. Postgres text holds no NUL byte, nor does an SQL literal.
Result<sql::ParamValue> TextValue(std::string_view text, size_t number) {
  if (text.find('\0') != std::string_view::npos) {
    return BadValue(number, "text", "a NUL byte (0x00) in a value");
  }
  return sql::ParamValue(std::string(text));
}

Result<sql::ParamValue> FromText(int32_t type_oid, std::string_view text, size_t number) {
  switch (type_oid) {
    case oid::kBool: {
      const std::string b = Lower(Trim(text));
      if (b == "t" || b == "true" || b == "y" || b == "yes" || b == "on" || b == "1") return sql::ParamValue(true);
      if (b == "f" || b == "false" || b == "n" || b == "no" || b == "off" || b == "0") return sql::ParamValue(false);
      return BadValue(number, "boolean", "invalid input");
    }
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
    case oid::kOid: {
      const std::string_view t = Trim(text);
      int64_t v = 0;
      auto [end, ec] = std::from_chars(t.data() + (t.starts_with('+') ? 1 : 0), t.data() + t.size(), v);
      if (ec != std::errc() || end != t.data() + t.size() || t.empty()) {
        return BadValue(number, "integer", "invalid input");
      }
      return sql::ParamValue(v);
    }
    case oid::kFloat4:
    case oid::kFloat8: {
      const std::string t(Trim(text));
      const std::string l = Lower(t);
      if (l == "nan") return FloatValue(std::numeric_limits<double>::quiet_NaN());
      if (l == "infinity" || l == "inf" || l == "+infinity") return FloatValue(HUGE_VAL);
      if (l == "-infinity" || l == "-inf") return FloatValue(-HUGE_VAL);
      if (!IsNumericText(t)) return BadValue(number, "double precision", "invalid input");
      return FloatValue(std::strtod(t.c_str(), nullptr));
    }
    case oid::kNumeric: {
      const std::string_view t = Trim(text);
      if (EqualsIgnoreCase(t, "nan")) return sql::ParamValue(Cast("NaN", "DOUBLE"));
      if (!IsNumericText(t)) return BadValue(number, "numeric", "invalid input");
      return sql::ParamValue(sql::SqlLiteral{std::string(t)});
    }
    case oid::kBytea: {
      auto bytes = ByteaFromText(text);
      if (!bytes) return BadValue(number, "bytea", "invalid input");
      return sql::ParamValue(BlobLiteral(*bytes));
    }
    case oid::kTimestamp: return sql::ParamValue(Cast(text, "TIMESTAMP"));
    case oid::kTimestampTz: {
      const std::optional<std::string> utc = UtcTimestampText(text);
      return sql::ParamValue(Cast(utc ? *utc : std::string(text), "TIMESTAMP"));
    }
    case oid::kDate: return sql::ParamValue(Cast(text, "DATE"));
    case oid::kTime: return sql::ParamValue(Cast(text, "TIME"));
    case oid::kUuid: return sql::ParamValue(Cast(text, "UUID"));
    default: return TextValue(text, number);
  }
}

Result<sql::ParamValue> FromBinary(int32_t type_oid, std::string_view bytes, size_t number) {
  auto sized = [&](size_t n, std::string_view type) -> Status {
    if (bytes.size() == n) return Status::Ok();
    return BadValue(number, type, fmt::format("{} bytes where {} were expected", bytes.size(), n));
  };
  switch (type_oid) {
    case oid::kBool:
      KALAM_RETURN_IF_ERROR(sized(1, "boolean"));
      return sql::ParamValue(bytes[0] != 0);
    case oid::kInt2:
      KALAM_RETURN_IF_ERROR(sized(2, "smallint"));
      return sql::ParamValue(static_cast<int64_t>(ReadBigEndian<int16_t>(bytes)));
    case oid::kInt4:
      KALAM_RETURN_IF_ERROR(sized(4, "integer"));
      return sql::ParamValue(static_cast<int64_t>(ReadBigEndian<int32_t>(bytes)));
    case oid::kOid:
      KALAM_RETURN_IF_ERROR(sized(4, "oid"));
      return sql::ParamValue(static_cast<int64_t>(ReadBigEndian<uint32_t>(bytes)));
    case oid::kInt8:
      KALAM_RETURN_IF_ERROR(sized(8, "bigint"));
      return sql::ParamValue(ReadBigEndian<int64_t>(bytes));
    case oid::kFloat4:
      KALAM_RETURN_IF_ERROR(sized(4, "real"));
      return FloatValue(std::bit_cast<float>(ReadBigEndian<uint32_t>(bytes)));
    case oid::kFloat8:
      KALAM_RETURN_IF_ERROR(sized(8, "double precision"));
      return FloatValue(std::bit_cast<double>(ReadBigEndian<uint64_t>(bytes)));
    case oid::kNumeric: {
      auto text = NumericFromBinary(bytes);
      if (!text) return BadValue(number, "numeric", "invalid binary representation");
      if (*text == "NaN") return sql::ParamValue(Cast("NaN", "DOUBLE"));
      return sql::ParamValue(sql::SqlLiteral{*text});
    }
    case oid::kBytea: return sql::ParamValue(BlobLiteral(bytes));
    case oid::kTimestamp:
    case oid::kTimestampTz: {
      KALAM_RETURN_IF_ERROR(sized(8, "timestamp"));
      const int64_t micros = ReadBigEndian<int64_t>(bytes);
      if (micros == std::numeric_limits<int64_t>::max()) return sql::ParamValue(Cast("infinity", "TIMESTAMP"));
      if (micros == std::numeric_limits<int64_t>::min()) return sql::ParamValue(Cast("-infinity", "TIMESTAMP"));
      int64_t days = micros / kMicrosPerDay;
      int64_t in_day = micros % kMicrosPerDay;
      if (in_day < 0) in_day += kMicrosPerDay, --days;
      return sql::ParamValue(Cast(DateText(days + kPostgresEpochDays) + " " + TimeText(in_day), "TIMESTAMP"));
    }
    case oid::kDate:
      KALAM_RETURN_IF_ERROR(sized(4, "date"));
      return sql::ParamValue(Cast(DateText(ReadBigEndian<int32_t>(bytes) + kPostgresEpochDays), "DATE"));
    case oid::kTime: {
      KALAM_RETURN_IF_ERROR(sized(8, "time"));
      const int64_t micros = ReadBigEndian<int64_t>(bytes);
      if (micros < 0 || micros > kMicrosPerDay) return BadValue(number, "time", "out of range");
      return sql::ParamValue(Cast(TimeText(micros), "TIME"));
    }
    case oid::kUuid: {
      KALAM_RETURN_IF_ERROR(sized(16, "uuid"));
      const std::string hex = HexEncode(bytes);
      return sql::ParamValue(Cast(hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
                                      hex.substr(16, 4) + "-" + hex.substr(20),
                                  "UUID"));
    }
    case oid::kJsonb:
      if (bytes.empty() || bytes[0] != 1) return BadValue(number, "jsonb", "unknown binary version");
      return TextValue(bytes.substr(1), number);
    case oid::kUnspecified:  // bytes of a type the client did not name: node-postgres sends Buffers so
      return sql::ParamValue(BlobLiteral(bytes));
    case oid::kText:
    case oid::kVarchar:
    case oid::kBpchar:
    case oid::kName:
    case oid::kJson: return TextValue(bytes, number);
    default:
      return Status(Code::kUnsupported,
                    fmt::format("Parameter ${}: the binary format of type OID {} is not supported; send it as text",
                                number, type_oid));
  }
}

}  // namespace

Result<sql::ParamValue> DecodeParam(int32_t type_oid, int16_t format, std::optional<std::string_view> bytes,
                                    size_t number) {
  if (!bytes) return sql::ParamValue(std::monostate{});
  if (format == kTextFormat) return FromText(type_oid, *bytes, number);
  if (format == kBinaryFormat) return FromBinary(type_oid, *bytes, number);
  return Status(Code::kProtocol, fmt::format("Parameter ${}: unknown format code {}", number, format));
}

bool AppendNumericBinary(std::string& out, std::string_view text) {
  if (EqualsIgnoreCase(text, "nan")) {
    AppendInt16(out, 0), AppendInt16(out, 0), AppendInt16(out, static_cast<int16_t>(0xC000)), AppendInt16(out, 0);
    return true;
  }
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  const size_t dot = text.find('.');
  std::string integer(text.substr(0, dot));
  std::string fraction(dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1));
  if ((integer + fraction).find_first_not_of("0123456789") != std::string::npos || integer.size() + fraction.size() == 0) {
    return false;
  }
  const auto dscale = static_cast<int16_t>(fraction.size());
  integer.insert(0, (4 - integer.size() % 4) % 4, '0');
  fraction.append((4 - fraction.size() % 4) % 4, '0');
  std::vector<int16_t> groups;
  for (size_t i = 0; i < integer.size(); i += 4) groups.push_back(static_cast<int16_t>(std::stoi(integer.substr(i, 4))));
  for (size_t i = 0; i < fraction.size(); i += 4) groups.push_back(static_cast<int16_t>(std::stoi(fraction.substr(i, 4))));
  int weight = static_cast<int>(integer.size() / 4) - 1;
  size_t first = 0;
  while (first < groups.size() && groups[first] == 0) ++first, --weight;
  size_t last = groups.size();
  while (last > first && groups[last - 1] == 0) --last;
  if (first == last) weight = 0, negative = false;
  AppendInt16(out, static_cast<int16_t>(last - first));
  AppendInt16(out, static_cast<int16_t>(weight));
  AppendInt16(out, negative ? static_cast<int16_t>(0x4000) : 0);
  AppendInt16(out, dscale);
  for (size_t i = first; i < last; ++i) AppendInt16(out, groups[i]);
  return true;
}

bool AppendTimestampBinary(std::string& out, std::string_view text) {
  // 2026-11-24T05:00:00[.ffffff]Z
  if (text.size() < 20 || (text[10] != 'T' && text[10] != ' ')) return false;
  if (text.back() == 'Z') text.remove_suffix(1);
  int64_t days = 0, micros = 0;
  if (!ParseDate(text.substr(0, 10), days) || !ParseTime(text.substr(11), micros)) return false;
  AppendInt64(out, (days - kPostgresEpochDays) * kMicrosPerDay + micros);
  return true;
}

bool AppendDateBinary(std::string& out, std::string_view text) {
  int64_t days = 0;
  if (!ParseDate(text, days)) return false;
  AppendInt32(out, static_cast<int32_t>(days - kPostgresEpochDays));
  return true;
}

bool AppendTimeBinary(std::string& out, std::string_view text) {
  int64_t micros = 0;
  if (!ParseTime(text, micros)) return false;
  AppendInt64(out, micros);
  return true;
}

bool AppendUuidBinary(std::string& out, std::string_view text) {
  std::string hex;
  for (const char c : text) {
    if (c != '-') hex += c;
  }
  if (hex.size() != 32) return false;
  auto bytes = HexDecode(hex);
  if (!bytes) return false;
  out += *bytes;
  return true;
}

}  // namespace kalam::pgwire
