// The admin web UI at /ui/: the embedded files (ui_assets.h) with their caching and
// security headers. "/" redirects to /ui/; a path under /ui/ that names no file and looks
// like a page (no extension, not under assets/) answers index.html, for the app's own
// routing. Paths with "..", ".", "//", "%" or "\" are refused (404): only names of the
// embedded files ever match, and nothing is read from disk.
#pragma once

#include <optional>
#include <string_view>

#include "server/routes.h"

namespace kalam::server {

// Whether the request's path belongs to the UI ("/", "/ui" and "/ui/...").
bool IsUiPath(std::string_view path);

// The answer to a request for a UI path (IsUiPath), or nullopt for any other path.
std::optional<Response> ServeUi(const Request& request, std::string_view path);

}  // namespace kalam::server
