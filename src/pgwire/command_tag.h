// What kind of statement a text is, read from its first words the way Postgres names it
// in CommandComplete: "SELECT 3", "INSERT 0 1", "CREATE TABLE", "BEGIN".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kalam::pgwire {

// The first count words of sql, upper-cased; whitespace and comments skipped, and the
// words end at the first token that is not a word.
std::vector<std::string> LeadingWords(std::string_view sql, size_t count);

// The CommandComplete tag of a statement that succeeded; rows is the number of rows it
// returned (returned_rows) or changed.
std::string CommandTag(std::string_view statement, uint64_t rows, bool returned_rows);

}  // namespace kalam::pgwire
