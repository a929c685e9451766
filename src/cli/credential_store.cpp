#include "cli/credential_store.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kalam::cli {

namespace json = boost::json;

namespace {

Status SystemError(const std::string& what, const std::string& path) {
  return {Code::kInternalError, what + " " + path + ": " + std::strerror(errno)};
}

json::object ReadAll(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(text.str(), ec);
  return !ec && v.is_object() ? v.get_object() : json::object();
}

std::string Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

std::string KalamDir() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    const passwd* pw = ::getpwuid(::getuid());
    home = pw != nullptr ? pw->pw_dir : "/tmp";
  }
  return std::string(home) + "/.kalam";
}

Status EnsureKalamDir() {
  const std::string dir = KalamDir();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return SystemError("cannot create", dir);
  }
  if (::chmod(dir.c_str(), 0700) != 0) return SystemError("cannot set the mode of", dir);
  return Status::Ok();
}

CredentialStore::CredentialStore() : path_(KalamDir() + "/credentials") {}

std::optional<StoredLogin> CredentialStore::Load(std::string_view server_url) const {
  const json::object all = ReadAll(path_);
  const json::value* entry = all.if_contains(server_url);
  if (entry == nullptr || !entry->is_object()) return std::nullopt;
  const json::object& o = entry->get_object();
  StoredLogin login{Field(o, "username"), Field(o, "access_token"), Field(o, "refresh_token")};
  if (login.access_token.empty()) return std::nullopt;
  return login;
}

Status CredentialStore::Save(std::string_view server_url, const StoredLogin& login) const {
  KALAM_RETURN_IF_ERROR(EnsureKalamDir());
  json::object all = ReadAll(path_);
  all[server_url] = json::object{{"username", login.username},
                                 {"access_token", login.access_token},
                                 {"refresh_token", login.refresh_token}};
  const std::string text = json::serialize(all) + "\n";

  const std::string tmp = path_ + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return SystemError("cannot write", tmp);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool closed = ::close(fd) == 0;
  if (!written || !closed || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    Status status = SystemError("cannot write", path_);
    ::unlink(tmp.c_str());
    return status;
  }
  return Status::Ok();
}

}  // namespace kalam::cli
