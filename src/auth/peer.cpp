#include "auth/peer.h"

#include <algorithm>

namespace kalam::auth {

namespace asio = boost::asio;

Peer PeerOf(const asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  const asio::ip::tcp::endpoint endpoint = socket.remote_endpoint(ec);
  if (ec) return {"unknown", false};
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  if (address.is_v4()) return {address.to_string(), address.is_loopback()};
  asio::ip::address_v6::bytes_type network = address.to_v6().to_bytes();
  std::fill(network.begin() + 8, network.end(), 0);
  return {asio::ip::address_v6(network).to_string() + "/64", address.is_loopback()};
}

}  // namespace kalam::auth
