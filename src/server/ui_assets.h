// The admin web UI's files (ui/), embedded in the binary. The definitions are generated at
// build time by ui/build.js from the esbuild bundle: plain data, no other header.
#pragma once

#include <span>
#include <string_view>

namespace kalam::server {

struct UiAsset {
  std::string_view path;          // relative to /ui/, e.g. "index.html", "assets/app-X.js"
  std::string_view content_type;
  std::string_view etag;          // quoted, from the content's SHA-256
  std::string_view body;
  std::string_view gzip;          // the body gzipped; empty when that would not be smaller
  bool immutable;                 // a hashed name: its content never changes
};

std::span<const UiAsset> UiAssets();

}  // namespace kalam::server
