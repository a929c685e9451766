// Raw RocksDB put rate: the ceiling of KalamDB's INSERT hot path (see bench/README.md).
//
//   rocksdb_put DIR THREADS SYNC SECONDS [VALUE_BYTES] [KEY_BYTES]
//
// Opens (creates) a RocksDB database in DIR with the options KalamDB's store uses
// (IncreaseParallelism(2), enable_pipelined_write, WAL on), then THREADS threads each
// put distinct keys (KEY_BYTES, default 16: thread id + counter, big-endian, zero-padded)
// with VALUE_BYTES-byte values (default 150) for SECONDS seconds, WriteOptions::sync = SYNC.
// Every Put is its own write (its own WAL record; with SYNC=1 its own fsync unless RocksDB
// groups it with concurrent writers). Prints one line:
//   ROCKSDB_RESULT threads=N sync=S puts=P seconds=T rate=R p50_us=A p99_us=B
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

void PutBigEndian(std::string& out, size_t offset, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[offset + static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s DIR THREADS SYNC SECONDS [VALUE_BYTES] [KEY_BYTES]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int threads = std::max(1, std::atoi(argv[2]));
  const bool sync = std::atoi(argv[3]) != 0;
  const double seconds = std::atof(argv[4]);
  const size_t value_bytes = argc > 5 ? static_cast<size_t>(std::atol(argv[5])) : 150;
  const size_t key_bytes = std::max<size_t>(16, argc > 6 ? static_cast<size_t>(std::atol(argv[6])) : 16);

  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  options.enable_pipelined_write = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);

  rocksdb::WriteOptions wo;
  wo.sync = sync;
  wo.disableWAL = false;

  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::vector<std::vector<uint32_t>> lat(static_cast<size_t>(threads));  // microseconds
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto& mine = lat[static_cast<size_t>(t)];
      mine.reserve(1 << 20);
      std::string key(key_bytes, '\0');
      std::string value(value_bytes, 'x');
      PutBigEndian(key, key_bytes - 16, static_cast<uint64_t>(t));
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        PutBigEndian(key, key_bytes - 8, i);
        const auto t0 = Clock::now();
        rocksdb::Status ps = db->Put(wo, key, value);
        const auto t1 = Clock::now();
        if (!ps.ok()) {
          std::fprintf(stderr, "put: %s\n", ps.ToString().c_str());
          failed = true;
          return;
        }
        mine.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<uint32_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) -> double {
    if (all.empty()) return 0;
    size_t i = static_cast<size_t>(p * static_cast<double>(all.size()));
    if (i >= all.size()) i = all.size() - 1;
    return all[i];
  };
  std::printf("ROCKSDB_RESULT threads=%d sync=%d puts=%zu seconds=%.3f rate=%.1f p50_us=%.1f p99_us=%.1f\n",
              threads, sync ? 1 : 0, all.size(), elapsed, static_cast<double>(all.size()) / elapsed,
              pct(0.50), pct(0.99));
  db.reset();
  return failed ? 1 : 0;
}
