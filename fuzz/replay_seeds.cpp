// The fuzz targets without libFuzzer: each target's seeds (fuzz/seeds/<target>/) run once
// through it, in the main build with its compiler, as the ctest fuzz_seeds. A violated
// invariant stops the process, which fails the test. Each target's source is compiled
// with LLVMFuzzerTestOneInput renamed to its entry below (CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#define KALAM_FUZZ_TARGETS(X)                                                            \
  X(sql_text, FuzzSqlText) X(pg_values, FuzzPgValues) X(scram, FuzzScram)                \
  X(statement, FuzzStatement) X(request_body, FuzzRequestBody) X(ws_message, FuzzWsMessage) \
  X(row_codec, FuzzRowCodec) X(manifest, FuzzManifest) X(pg_messages, FuzzPgMessages)

#define KALAM_DECLARE(name, entry) extern "C" int entry(const uint8_t* data, size_t size);
KALAM_FUZZ_TARGETS(KALAM_DECLARE)

namespace {

struct Target {
  const char* name;
  int (*run)(const uint8_t* data, size_t size);
};

#define KALAM_ENTRY(name, entry) Target{#name, &entry},
constexpr Target kTargets[] = {KALAM_FUZZ_TARGETS(KALAM_ENTRY)};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <fuzz/seeds>\n", argv[0]);
    return 2;
  }
  namespace fs = std::filesystem;
  int failures = 0;
  for (const Target& target : kTargets) {
    const fs::path dir = fs::path(argv[1]) / target.name;
    size_t seeds = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      target.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++seeds;
    }
    std::printf("%s: %zu seeds\n", target.name, seeds);
    if (seeds == 0) ++failures;  // a target without seeds tests nothing
  }
  return failures == 0 ? 0 : 1;
}
