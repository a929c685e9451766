// The peer of bench/cold.sh (see bench/README.md): DuckDB reading KalamDB's Parquet segments
// directly, in a process of its own, with DuckDB's default settings (threads = cores).
//
//   duckdb_query GLOB REPEATS SQL...
//
// Every "{src}" in a SQL is replaced by read_parquet('GLOB'). Each SQL runs once to warm up,
// then REPEATS times; per SQL it prints
//   DUCKDB_RESULT q=<index> rows=<result rows> first=<first value of the first row>
//                 sum2=<sum of the second column, or of the first when there is one>
//                 median_ms=<median> min_ms=<fastest> max_ms=<slowest>
// or "DUCKDB_ERROR <message>" and exits 1.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "duckdb.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: duckdb_query GLOB REPEATS SQL...\n";
    return 2;
  }
  const std::string glob = argv[1];
  const int repeats = std::max(1, std::atoi(argv[2]));
  try {
    duckdb::DuckDB db(nullptr);
    duckdb::Connection con(db);
    for (int q = 3; q < argc; ++q) {
      std::string sql = argv[q];
      const std::string src = "read_parquet('" + glob + "')";
      for (size_t at; (at = sql.find("{src}")) != std::string::npos;) sql.replace(at, 5, src);
      std::vector<double> ms;
      std::unique_ptr<duckdb::MaterializedQueryResult> result;
      for (int i = 0; i <= repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        result = con.Query(sql);
        const auto t1 = std::chrono::steady_clock::now();
        if (result->HasError()) {
          std::cout << "DUCKDB_ERROR " << result->GetError() << std::endl;
          return 1;
        }
        if (i > 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      std::sort(ms.begin(), ms.end());
      const size_t rows = result->RowCount();
      std::string first = rows > 0 ? result->GetValue(0, 0).ToString() : "";
      const size_t col = result->ColumnCount() > 1 ? 1 : 0;
      long long sum = 0;
      for (size_t r = 0; r < rows; ++r) {
        auto v = result->GetValue(col, r);
        if (!v.IsNull()) sum += v.GetValue<int64_t>();
      }
      char line[512];
      std::snprintf(line, sizeof line,
                    "DUCKDB_RESULT q=%d rows=%zu first=%s sum2=%lld median_ms=%.2f min_ms=%.2f max_ms=%.2f",
                    q - 3, rows, first.c_str(), sum, ms[ms.size() / 2], ms.front(), ms.back());
      std::cout << line << std::endl;
    }
  } catch (const std::exception& e) {
    std::cout << "DUCKDB_ERROR " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
