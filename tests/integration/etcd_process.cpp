#include "etcd_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "client/http_client.h"
#include "server_process.h"

namespace kalam::testing {

EtcdCluster::EtcdCluster(int members, const std::string& host) {
  char pattern[] = "/tmp/kalamdb-etcd-XXXXXX";
  work_dir_ = ::mkdtemp(pattern);
  for (int i = 0; i < members; ++i) {
    client_urls_.push_back("http://" + host + ":" + std::to_string(FreePort()));
    peer_urls_.push_back("http://" + host + ":" + std::to_string(FreePort()));
    initial_cluster_ += (i > 0 ? "," : "") + std::string("e") + std::to_string(i) + "=" + peer_urls_[i];
  }
  pids_.assign(members, -1);
}

EtcdCluster::~EtcdCluster() {
  for (size_t i = 0; i < pids_.size(); ++i) {
    if (pids_[i] > 0) Stop(static_cast<int>(i), SIGKILL);
  }
  std::error_code ec;
  std::filesystem::remove_all(work_dir_, ec);
}

void EtcdCluster::Spawn(int i) {
  const std::string name = "e" + std::to_string(i);
  const std::string data = work_dir_ + "/" + name;
  const std::string log = work_dir_ + "/" + name + ".log";
  pid_t pid = ::fork();
  if (pid == 0) {
    FILE* out = std::fopen(log.c_str(), "a");
    if (out != nullptr) {
      ::dup2(fileno(out), STDOUT_FILENO);
      ::dup2(fileno(out), STDERR_FILENO);
    }
    // Quick elections, as on one machine: a lost member is replaced within about a second.
    ::execlp("etcd", "etcd", "--name", name.c_str(), "--data-dir", data.c_str(),
             "--listen-client-urls", client_urls_[i].c_str(), "--advertise-client-urls",
             client_urls_[i].c_str(), "--listen-peer-urls", peer_urls_[i].c_str(),
             "--initial-advertise-peer-urls", peer_urls_[i].c_str(), "--initial-cluster",
             initial_cluster_.c_str(), "--initial-cluster-state", "new", "--initial-cluster-token",
             work_dir_.c_str(), "--heartbeat-interval", "100", "--election-timeout", "1000",
             "--logger", "zap", "--log-level", "warn", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pids_[i] = pid;
}

void EtcdCluster::WaitHealthy(int i) {
  const std::string address = client_urls_[i].substr(7);
  const auto colon = address.rfind(':');
  client::HttpClient http(address.substr(0, colon), static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  http.SetTimeout(std::chrono::seconds(2));
  const bool healthy = WaitUntil(
      [&] {
        int status = 0;
        if (::waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
          pids_[i] = -1;
          throw std::runtime_error("etcd exited:\n" + ReadFile(work_dir_ + "/e" + std::to_string(i) + ".log"));
        }
        auto res = http.Send("GET", "/health");
        return res.ok() && res->status == 200 && res->body.find("\"true\"") != std::string::npos;
      },
      std::chrono::seconds(30));
  if (!healthy) {
    throw std::runtime_error("etcd member " + std::to_string(i) + " did not become healthy:\n" +
                             ReadFile(work_dir_ + "/e" + std::to_string(i) + ".log"));
  }
}

void EtcdCluster::Start() {
  for (size_t i = 0; i < pids_.size(); ++i) Spawn(static_cast<int>(i));
  for (size_t i = 0; i < pids_.size(); ++i) WaitHealthy(static_cast<int>(i));
}

void EtcdCluster::Stop(int i, int signal) {
  if (pids_[i] <= 0) return;
  ::kill(pids_[i], signal);
  int status = 0;
  ::waitpid(pids_[i], &status, 0);
  pids_[i] = -1;
}

void EtcdCluster::Restart(const std::vector<int>& members) {
  for (int i : members) Spawn(i);
  for (int i : members) WaitHealthy(i);
}

std::string EtcdCluster::EndpointsToml() const {
  std::string out = "[";
  for (size_t i = 0; i < client_urls_.size(); ++i) out += (i > 0 ? ", \"" : "\"") + client_urls_[i] + "\"";
  return out + "]";
}

}  // namespace kalam::testing
