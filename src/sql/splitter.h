// Splitting a batch of SQL into statements.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kalam::sql {

// Splits at top-level ';'. Quote- and comment-aware: '...' (with '' escapes), E'...'
// (backslash escapes), "..." identifiers, $tag$...$tag$ bodies, -- line comments and
// /* */ block comments never split. Each statement is trimmed; statements that hold only
// whitespace and comments are dropped. An empty result means the batch had no SQL.
std::vector<std::string> SplitStatements(std::string_view sql);

}  // namespace kalam::sql
