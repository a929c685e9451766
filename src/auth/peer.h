// The client's end of a connection as sign-ins see it (auth::Peer), for every door that
// accepts TCP connections: HTTP, the WebSocket and the Postgres wire.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "auth/caller.h"

namespace kalam::auth {

// IPv4 (also when mapped into IPv6) as is, IPv6 by its /64 network: failed sign-ins are
// counted per this address.
Peer PeerOf(const boost::asio::ip::tcp::socket& socket);

}  // namespace kalam::auth
