// A full disk under the data directory, reported one way wherever a write meets it: the
// statement or job fails with RESOURCE_EXHAUSTED (HTTP 507) and DiskFull's message, what
// was written before stays as it was, and writes succeed again once space is freed.
#pragma once

#include <string_view>
#include <system_error>

#include "common/status.h"

namespace kalam {

// RESOURCE_EXHAUSTED: "the disk holding the data directory is full", then what failed.
Status DiskFull(std::string_view what);

// Whether a file system error, or a library's error text (DuckDB's, RocksDB's), means no
// space is left: ENOSPC, or EDQUOT (a quota is a full disk to this process).
bool IsNoSpace(const std::error_code& ec);
bool SaysNoSpace(std::string_view error_text);

}  // namespace kalam
