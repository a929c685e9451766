// The CLI's files under ~/.kalam/ ($HOME/.kalam): the directory is the owner's only (0700)
// and so is every file in it (0600), because they hold tokens and SQL history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam::cli {

// $HOME/.kalam (the passwd entry's home when HOME is unset).
std::string KalamDir();
// Creates KalamDir() with mode 0700, or narrows an existing one to it.
Status EnsureKalamDir();

// The tokens of a `\login`, kept per server.
struct StoredLogin {
  std::string username;
  std::string access_token;
  std::string refresh_token;
};

// ~/.kalam/credentials: JSON, one entry per server URL ("http://host:port").
class CredentialStore {
 public:
  CredentialStore();  // KalamDir() + "/credentials"
  explicit CredentialStore(std::string path) : path_(std::move(path)) {}

  std::optional<StoredLogin> Load(std::string_view server_url) const;
  // Replaces the server's entry, keeping the others. The file is written beside itself
  // with mode 0600 and renamed into place, so it is never readable by others nor torn.
  Status Save(std::string_view server_url, const StoredLogin& login) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace kalam::cli
