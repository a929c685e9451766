// Byte encodings used across parts: base64 (standard and URL-safe) and hex.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kalam {

std::string Base64Encode(std::string_view bytes);
// Accepts padded or unpadded input; nullopt on a character outside the alphabet.
std::optional<std::string> Base64Decode(std::string_view text);
std::string Base64UrlEncode(std::string_view bytes);  // no padding (RFC 7515)
std::optional<std::string> Base64UrlDecode(std::string_view text);
std::string HexEncode(std::string_view bytes);

}  // namespace kalam
