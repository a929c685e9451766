// Postgres wire values from a client: a Bind parameter of each type in text and binary,
// and the binary encoders of result cells fed arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pgwire/values.h"

namespace oid = kalam::pgwire::oid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static constexpr int32_t kTypes[] = {oid::kUnspecified, oid::kBool, oid::kBytea, oid::kInt8, oid::kInt2,
                                       oid::kInt4, oid::kText, oid::kOid, oid::kJson, oid::kFloat4,
                                       oid::kFloat8, oid::kDate, oid::kTime, oid::kTimestamp,
                                       oid::kTimestampTz, oid::kNumeric, oid::kUuid, oid::kJsonb, 12345};
  const int32_t type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  const int16_t format = static_cast<int16_t>(data[1] % 3);  // 2: an unknown format code
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  (void)kalam::pgwire::DecodeParam(type, format, bytes, 1);
  std::string out;
  kalam::pgwire::AppendNumericBinary(out, bytes);
  kalam::pgwire::AppendTimestampBinary(out, bytes);
  kalam::pgwire::AppendDateBinary(out, bytes);
  kalam::pgwire::AppendTimeBinary(out, bytes);
  kalam::pgwire::AppendUuidBinary(out, bytes);
  return 0;
}
