#include "server/ui_routes.h"

#include <algorithm>

#include "server/ui_assets.h"

namespace kalam::server {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kPrefix = "/ui/";

// Scripts and styles from the page's own origin only: no inline script, no eval. The
// connect-src adds the origin's WebSocket (ws:, and wss: behind a TLS proxy), which
// older browsers do not count as 'self'.
std::string ContentSecurityPolicy(std::string_view host) {
  std::string connect = "'self'";
  const bool plain_host = !host.empty() && host.size() <= 255 &&
                          std::all_of(host.begin(), host.end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                                   c == '-' || c == ':' || c == '[' || c == ']';
                          });
  if (plain_host) {
    connect += " ws://" + std::string(host) + " wss://" + std::string(host);
  }
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         "font-src 'self'; connect-src " + connect +
         "; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

// Only characters of the embedded files' names, and no "." or ".." segment or "//".
bool SafeRelativePath(std::string_view rest) {
  if (!std::all_of(rest.begin(), rest.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
               c == '/' || c == '~';
      })) {
    return false;
  }
  size_t start = 0;
  while (start <= rest.size()) {
    const size_t end = std::min(rest.find('/', start), rest.size());
    const std::string_view segment = rest.substr(start, end - start);
    if (segment == "." || segment == "..") return false;
    if (segment.empty() && end < rest.size()) return false;  // "//" or a leading "/"
    start = end + 1;
  }
  return true;
}

const UiAsset* Find(std::string_view path) {
  for (const UiAsset& asset : UiAssets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

std::string_view Header(const Request& request, http::field field) {
  auto it = request.find(field);
  return it == request.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
}

Response Base(unsigned status, const Request& request) {
  Response response{static_cast<http::status>(status), request.version()};
  response.set(http::field::server, "kalamdb");
  response.set(http::field::access_control_allow_origin, "*");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.keep_alive(request.keep_alive());
  return response;
}

Response Redirect(const Request& request) {
  Response response = Base(302, request);
  response.set(http::field::location, kPrefix);
  response.set(http::field::cache_control, "no-cache");
  return response;
}

Response NotFound(const Request& request, std::string_view path) {
  Response response = Base(404, request);
  response.set(http::field::content_type, "application/json");
  std::string body = R"({"status":"error","error":{"code":"NOT_FOUND","message":"No UI file )";
  // The path is echoed only when SafeRelativePath-like: no quote or backslash to escape.
  const bool plain = std::none_of(path.begin(), path.end(), [](char c) {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f;
  });
  body += plain ? std::string(path) : std::string("at this path");
  body += "\"}}";
  response.body() = std::move(body);
  return response;
}

// Whether If-None-Match names etag (a list, or "*").
bool Matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match == "*") return true;
  size_t at = 0;
  while ((at = if_none_match.find(etag, at)) != std::string_view::npos) {
    const size_t end = at + etag.size();
    if (end == if_none_match.size() || if_none_match[end] == ',' || if_none_match[end] == ' ') return true;
    at = end;
  }
  return false;
}

Response Serve(const Request& request, const UiAsset& asset) {
  const bool gzip = !asset.gzip.empty() && Header(request, http::field::accept_encoding).find("gzip") != std::string_view::npos;
  // Each encoding is its own representation, with its own tag.
  std::string etag(asset.etag);
  if (gzip) etag.insert(etag.size() - 1, "-gz");
  const bool fresh = Matches(Header(request, http::field::if_none_match), etag);
  Response response = Base(fresh ? 304 : 200, request);
  response.set(http::field::content_type, asset.content_type);
  response.set(http::field::etag, etag);
  response.set(http::field::vary, "Accept-Encoding");
  response.set(http::field::cache_control,
               asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (asset.content_type.starts_with("text/html")) {
    response.set("Content-Security-Policy", ContentSecurityPolicy(Header(request, http::field::host)));
  }
  if (gzip) response.set(http::field::content_encoding, "gzip");
  if (!fresh) response.body() = std::string(gzip ? asset.gzip : asset.body);
  return response;
}

}  // namespace

bool IsUiPath(std::string_view path) {
  return path == "/" || path == "/ui" || path.starts_with(kPrefix);
}

std::optional<Response> ServeUi(const Request& request, std::string_view path) {
  if (!IsUiPath(path)) return std::nullopt;
  if (request.method() != http::verb::get) return NotFound(request, path);
  if (path == "/" || path == "/ui") return Redirect(request);
  const std::string_view rest = path.substr(kPrefix.size());
  if (!SafeRelativePath(rest)) return NotFound(request, path);
  if (const UiAsset* asset = Find(rest.empty() ? "index.html" : rest)) return Serve(request, *asset);
  // A page of the app (its router reads the path): no extension, not a missing asset.
  const std::string_view last = rest.substr(rest.rfind('/') == std::string_view::npos ? 0 : rest.rfind('/') + 1);
  if (rest.starts_with("assets/") || last.find('.') != std::string_view::npos) return NotFound(request, path);
  const UiAsset* index = Find("index.html");
  return index ? Serve(request, *index) : NotFound(request, path);
}

}  // namespace kalam::server
