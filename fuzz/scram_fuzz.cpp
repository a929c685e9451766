// The SCRAM-SHA-256 exchange fed arbitrary client messages (split at the first NUL into
// the client-first and client-final messages) and arbitrary stored verifiers: errors,
// never a crash, and never a success without the password's proof.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/scram.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)kalam::auth::ParseScramVerifier(input);
  static const auto verifier = *kalam::auth::ParseScramVerifier(kalam::auth::MakeScramVerifier("fuzzing-pw"));
  const size_t nul = input.find('\0');
  kalam::auth::ScramExchange exchange(verifier);
  auto first = exchange.Start(input.substr(0, nul));
  if (first.ok() && nul != std::string_view::npos) {
    auto final = exchange.Finish(input.substr(nul + 1));
    if (final.ok()) __builtin_trap();  // a random proof never passes
  }
  return 0;
}
