// Reads Parquet files with DuckDB in a process of its own — not the server — and prints
// each row as a JSON array on a line: the tests check that flushed segments are plain
// Parquet any reader takes. Usage: parquet_reader 'SELECT ... FROM read_parquet(...)'
#include <duckdb.hpp>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: parquet_reader SQL\n";
    return 2;
  }
  duckdb::DuckDB db(nullptr);
  duckdb::Connection connection(db);
  auto result = connection.Query(argv[1]);
  if (result->HasError()) {
    std::cerr << result->GetError() << "\n";
    return 1;
  }
  for (idx_t r = 0; r < result->RowCount(); ++r) {
    std::cout << "[";
    for (idx_t c = 0; c < result->ColumnCount(); ++c) {
      if (c > 0) std::cout << ",";
      const duckdb::Value v = result->GetValue(c, r);
      if (v.IsNull()) {
        std::cout << "null";
      } else if (v.type().IsNumeric() || v.type().id() == duckdb::LogicalTypeId::BOOLEAN) {
        std::cout << v.ToString();
      } else {
        std::cout << "\"" << v.ToString() << "\"";
      }
    }
    std::cout << "]\n";
  }
  return 0;
}
