// A real etcd cluster for the cluster-mode tests: N members (Debian's etcd-server) on
// loopback ports, each with a data directory of its own under one temporary directory.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace kalam::testing {

class EtcdCluster {
 public:
  // Members listen on host (an IPv4 address of this machine).
  explicit EtcdCluster(int members, const std::string& host = "127.0.0.1");
  ~EtcdCluster();  // kills every member, removes the data

  // Starts every member and waits until each answers /health. Throws on failure.
  void Start();
  // Sends signal to member i and waits for it to end.
  void Stop(int i, int signal = 9);
  // Starts these members again on their data directories (they rejoin the cluster) and
  // waits until each answers /health.
  void Restart(const std::vector<int>& members);

  // The TOML list of the client URLs: ["http://127.0.0.1:p1", ...].
  std::string EndpointsToml() const;
  const std::vector<std::string>& client_urls() const { return client_urls_; }

 private:
  void Spawn(int i);
  void WaitHealthy(int i);

  std::string work_dir_;
  std::vector<std::string> client_urls_, peer_urls_;
  std::vector<pid_t> pids_;
  std::string initial_cluster_;
};

}  // namespace kalam::testing
