// SQL text as a client sends it: lexed, split, rewritten, bound and read as COPY without
// crashing, hanging or reading out of bounds, and with the invariants below.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/sql_lexer.h"
#include "pgwire/copy.h"
#include "pgwire/postgres_syntax.h"
#include "sql/params.h"
#include "sql/splitter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto tokens = kalam::sql::Tokenize(text);
  if (tokens.empty() || tokens.back().kind != kalam::sql::TokenKind::kEnd) __builtin_trap();
  const std::string stripped = kalam::sql::StripComments(text);
  if (stripped.size() > text.size()) __builtin_trap();  // comments only ever shrink
  for (const std::string& statement : kalam::sql::SplitStatements(text)) {
    (void)kalam::pgwire::RewritePostgresSyntax(statement);
    (void)kalam::pgwire::ParseCopy(statement);
    const size_t highest = kalam::sql::HighestParam(statement);
    if (highest > 0 && highest <= 3) {
      std::vector<kalam::sql::ParamValue> params = {int64_t{-5}, std::string("it's"),
                                                    kalam::sql::SqlLiteral{"CAST('x' AS TEXT)"}};
      params.resize(highest);
      (void)kalam::sql::BindParams(statement, params);
    }
  }
  return 0;
}
