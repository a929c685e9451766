#include "cluster/raft_port.h"

extern "C" {  // the library's headers have no C++ guards
#include <raft.h>
#include <raft/uv.h>
}
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <vector>

namespace kalam::cluster {
namespace {

constexpr uint64_t kMagic = 0x5446524d414c414bULL;  // "KALAMRFT", read little-endian
constexpr size_t kPreambleBytes = 32;
constexpr uint64_t kMaxAddressBytes = 1024;

void PutWord(char* at, uint64_t v) {
  for (int i = 0; i < 8; ++i) at[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t GetWord(const char* at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(at[i])) << (8 * i);
  return v;
}

// "a.b.c.d:port" -> sockaddr; false when it is not one.
bool ParseAddress(const char* address, sockaddr_in* out) {
  const char* colon = std::strrchr(address, ':');
  if (colon == nullptr || colon == address) return false;
  const std::string host(address, colon);
  char* end = nullptr;
  const long port = std::strtol(colon + 1, &end, 10);
  if (end == colon + 1 || *end != '\0' || port <= 0 || port > 65535) return false;
  return uv_ip4_addr(host.c_str(), static_cast<int>(port), out) == 0;
}

struct GroupTransport;

// An outgoing connection of a group while it connects and sends its handshake.
struct Connect {
  GroupTransport* group = nullptr;
  raft_uv_connect* req = nullptr;
  uv_tcp_t* tcp = nullptr;  // raft_malloc'd: the library frees the stream it is given
  uv_connect_t connect{};
  uv_write_t write{};
  std::vector<char> handshake;
  int status = 0;
};

}  // namespace

// An incoming connection while its handshake is read.
struct Incoming {
  RaftPort::Impl* port = nullptr;
  uv_tcp_t* tcp = nullptr;  // raft_malloc'd: handed to the library once the handshake is read
  char preamble[kPreambleBytes] = {};
  std::vector<char> address;
  size_t nread = 0;  // of the preamble, then of the address
  bool reading_address = false;
};

struct RaftPort::Impl {
  uv_loop_t* loop = nullptr;
  uv_tcp_t listener{};
  bool listener_open = false;
  std::map<uint32_t, GroupTransport*> groups;  // listening groups, by shard
  std::set<Incoming*> incoming;
  int closing_handles = 0;
  bool closing = false;
  std::function<void()> on_closed;

  void MaybeClosed() {
    if (closing && !listener_open && incoming.empty() && closing_handles == 0 && on_closed) {
      auto done = std::move(on_closed);
      on_closed = nullptr;
      done();
    }
  }
  void Abort(Incoming* in);
};

namespace {

// The state behind one group's raft_uv_transport.
struct GroupTransport {
  RaftPort::Impl* port = nullptr;
  raft_uv_transport* transport = nullptr;
  uint32_t shard = 0;
  raft_id id = 0;
  std::string address;
  raft_uv_accept_cb accept_cb = nullptr;
  bool idle_ready = false;
  uv_idle_t idle{};  // never started: closing it defers the close callback to the loop
  std::set<Connect*> connecting;
  std::set<Connect*> aborting;
  bool closing = false;
  bool close_fired = false;
  raft_uv_transport_close_cb close_cb = nullptr;

  void MaybeFireClose() {
    if (!closing || close_fired || !connecting.empty() || !aborting.empty()) return;
    close_fired = true;
    auto fire = [](uv_handle_t* handle) {
      auto* g = static_cast<GroupTransport*>(handle->data);
      if (g->close_cb != nullptr) g->close_cb(g->transport);
    };
    if (idle_ready) {
      idle.data = this;
      uv_close(reinterpret_cast<uv_handle_t*>(&idle), fire);
    } else if (close_cb != nullptr) {
      close_cb(transport);
    }
  }
};

void FinishConnect(Connect* c, uv_stream_t* stream) {
  raft_uv_connect* req = c->req;
  const int status = c->status;
  delete c;
  req->cb(req, stream, status);
}

void ConnectClosed(uv_handle_t* handle) {
  auto* c = static_cast<Connect*>(handle->data);
  raft_free(handle);
  GroupTransport* g = c->group;
  g->aborting.erase(c);
  FinishConnect(c, nullptr);
  g->MaybeFireClose();
}

void AbortConnect(Connect* c) {
  c->group->connecting.erase(c);
  c->group->aborting.insert(c);
  uv_close(reinterpret_cast<uv_handle_t*>(c->tcp), ConnectClosed);
}

void HandshakeWritten(uv_write_t* write, int status) {
  auto* c = static_cast<Connect*>(write->data);
  if (c->group->closing) {
    c->status = RAFT_CANCELED;  // the close aborted it: ConnectClosed finishes it
    return;
  }
  if (status != 0) {
    c->status = RAFT_NOCONNECTION;
    AbortConnect(c);
    return;
  }
  c->group->connecting.erase(c);
  FinishConnect(c, reinterpret_cast<uv_stream_t*>(c->tcp));
}

void Connected(uv_connect_t* connect, int status) {
  auto* c = static_cast<Connect*>(connect->data);
  if (c->group->closing) {
    c->status = RAFT_CANCELED;
    return;
  }
  if (status != 0) {
    c->status = RAFT_NOCONNECTION;
    AbortConnect(c);
    return;
  }
  uv_tcp_nodelay(c->tcp, 1);
  uv_buf_t buf = uv_buf_init(c->handshake.data(), static_cast<unsigned>(c->handshake.size()));
  if (uv_write(&c->write, reinterpret_cast<uv_stream_t*>(c->tcp), &buf, 1, HandshakeWritten) != 0) {
    c->status = RAFT_NOCONNECTION;
    AbortConnect(c);
  }
}

GroupTransport* GroupOf(raft_uv_transport* t) { return static_cast<GroupTransport*>(t->impl); }

int TransportInit(raft_uv_transport* t, raft_id id, const char* address) {
  GroupTransport* g = GroupOf(t);
  g->id = id;
  g->address = address;
  if (uv_idle_init(g->port->loop, &g->idle) != 0) return RAFT_IOERR;
  g->idle_ready = true;
  return 0;
}

int TransportListen(raft_uv_transport* t, raft_uv_accept_cb cb) {
  GroupTransport* g = GroupOf(t);
  if (g->port->closing || g->port->groups.contains(g->shard)) return RAFT_IOERR;
  g->accept_cb = cb;
  g->port->groups[g->shard] = g;
  return 0;
}

int TransportConnect(raft_uv_transport* t, raft_uv_connect* req, raft_id id, const char* address,
                     raft_uv_connect_cb cb) {
  (void)id;
  GroupTransport* g = GroupOf(t);
  sockaddr_in to{};
  if (!ParseAddress(address, &to)) {
    std::snprintf(t->errmsg, sizeof(t->errmsg), "not an IPv4 address and port: %s", address);
    return RAFT_NOCONNECTION;
  }
  auto* c = new Connect;
  c->group = g;
  c->req = req;
  req->cb = cb;
  const uint64_t address_bytes = (g->address.size() + 1 + 7) / 8 * 8;
  c->handshake.assign(kPreambleBytes + address_bytes, '\0');
  PutWord(&c->handshake[0], kMagic);
  PutWord(&c->handshake[8], g->shard);
  PutWord(&c->handshake[16], g->id);
  PutWord(&c->handshake[24], address_bytes);
  std::memcpy(&c->handshake[kPreambleBytes], g->address.data(), g->address.size());
  c->tcp = static_cast<uv_tcp_t*>(raft_malloc(sizeof(uv_tcp_t)));
  if (c->tcp == nullptr) {
    delete c;
    return RAFT_NOMEM;
  }
  uv_tcp_init(g->port->loop, c->tcp);
  c->tcp->data = c;
  c->connect.data = c;
  c->write.data = c;
  g->connecting.insert(c);
  if (uv_tcp_connect(&c->connect, c->tcp, reinterpret_cast<const sockaddr*>(&to), Connected) != 0) {
    g->connecting.erase(c);
    c->tcp->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(c->tcp), [](uv_handle_t* h) { raft_free(h); });
    delete c;
    return RAFT_NOCONNECTION;
  }
  return 0;
}

void TransportClose(raft_uv_transport* t, raft_uv_transport_close_cb cb) {
  GroupTransport* g = GroupOf(t);
  g->closing = true;
  g->close_cb = cb;
  auto it = g->port->groups.find(g->shard);
  if (it != g->port->groups.end() && it->second == g) g->port->groups.erase(it);
  for (Connect* c : std::vector<Connect*>(g->connecting.begin(), g->connecting.end())) {
    c->status = RAFT_CANCELED;
    AbortConnect(c);
  }
  g->MaybeFireClose();
}

void IncomingAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* in = static_cast<Incoming*>(handle->data);
  if (!in->reading_address) {
    *buf = uv_buf_init(in->preamble + in->nread, static_cast<unsigned>(kPreambleBytes - in->nread));
  } else {
    *buf = uv_buf_init(in->address.data() + in->nread, static_cast<unsigned>(in->address.size() - in->nread));
  }
}

void IncomingRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* in = static_cast<Incoming*>(stream->data);
  RaftPort::Impl* port = in->port;
  if (nread == 0) return;
  if (nread < 0) {
    port->Abort(in);
    return;
  }
  in->nread += static_cast<size_t>(nread);
  if (!in->reading_address) {
    if (in->nread < kPreambleBytes) return;
    const uint64_t length = GetWord(in->preamble + 24);
    if (GetWord(in->preamble) != kMagic || length == 0 || length > kMaxAddressBytes || length % 8 != 0) {
      port->Abort(in);  // not one of ours
      return;
    }
    in->reading_address = true;
    in->address.assign(length, '\0');
    in->nread = 0;
    return;
  }
  if (in->nread < in->address.size()) return;
  uv_read_stop(stream);
  in->address.back() = '\0';
  const uint64_t shard = GetWord(in->preamble + 8);
  const raft_id id = GetWord(in->preamble + 16);
  auto group = shard <= UINT32_MAX ? port->groups.find(static_cast<uint32_t>(shard)) : port->groups.end();
  if (group == port->groups.end() || group->second->closing || id == 0) {
    port->Abort(in);  // no such group here (yet): the sender retries
    return;
  }
  port->incoming.erase(in);
  GroupTransport* g = group->second;
  uv_tcp_t* tcp = in->tcp;
  const std::string address(in->address.data());
  delete in;
  tcp->data = nullptr;
  g->accept_cb(g->transport, id, address.c_str(), reinterpret_cast<uv_stream_t*>(tcp));
}

void Accepted(uv_stream_t* listener, int status) {
  auto* port = static_cast<RaftPort::Impl*>(listener->data);
  if (status != 0 || port->closing) return;
  auto* in = new Incoming;
  in->port = port;
  in->tcp = static_cast<uv_tcp_t*>(raft_malloc(sizeof(uv_tcp_t)));
  if (in->tcp == nullptr) {
    delete in;
    return;
  }
  uv_tcp_init(port->loop, in->tcp);
  in->tcp->data = in;
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(in->tcp)) != 0) {
    in->tcp->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(in->tcp), [](uv_handle_t* h) { raft_free(h); });
    delete in;
    return;
  }
  uv_tcp_nodelay(in->tcp, 1);
  port->incoming.insert(in);
  uv_read_start(reinterpret_cast<uv_stream_t*>(in->tcp), IncomingAlloc, IncomingRead);
}

}  // namespace

void RaftPort::Impl::Abort(Incoming* in) {
  incoming.erase(in);
  ++closing_handles;
  in->tcp->data = this;
  uv_close(reinterpret_cast<uv_handle_t*>(in->tcp), [](uv_handle_t* h) {
    auto* port = static_cast<RaftPort::Impl*>(h->data);
    raft_free(h);
    --port->closing_handles;
    port->MaybeClosed();
  });
  delete in;
}

RaftPort::RaftPort(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RaftPort::~RaftPort() = default;

Result<std::unique_ptr<RaftPort>> RaftPort::Listen(uv_loop_s* loop, const std::string& host, uint16_t port) {
  auto impl = std::make_unique<Impl>();
  impl->loop = loop;
  sockaddr_in at{};
  if (uv_ip4_addr(host.c_str(), port, &at) != 0) {
    return Status(Code::kInvalidInput, "the Raft port's host must be an IPv4 address (got '" + host + "')");
  }
  uv_tcp_init(loop, &impl->listener);
  impl->listener.data = impl.get();
  impl->listener_open = true;
  int rv = uv_tcp_bind(&impl->listener, reinterpret_cast<const sockaddr*>(&at), 0);
  if (rv == 0) rv = uv_listen(reinterpret_cast<uv_stream_t*>(&impl->listener), 128, Accepted);
  if (rv != 0) {
    // The handle must be closed on the loop before impl goes: run the loop until it is.
    uv_close(reinterpret_cast<uv_handle_t*>(&impl->listener), nullptr);
    uv_run(loop, UV_RUN_NOWAIT);
    return Status(Code::kServiceUnavailable, "cannot listen on the Raft port " + host + ":" +
                                                 std::to_string(port) + ": " + uv_strerror(rv));
  }
  return std::unique_ptr<RaftPort>(new RaftPort(std::move(impl)));
}

void RaftPort::Attach(raft_uv_transport* transport, uint32_t shard) {
  void* data = transport->data;
  std::memset(transport, 0, sizeof(*transport));
  transport->data = data;
  auto* g = new GroupTransport;
  g->port = impl_.get();
  g->transport = transport;
  g->shard = shard;
  transport->impl = g;
  transport->init = TransportInit;
  transport->listen = TransportListen;
  transport->connect = TransportConnect;
  transport->close = TransportClose;
}

void RaftPort::Release(raft_uv_transport* transport) {
  delete GroupOf(transport);
  transport->impl = nullptr;
}

void RaftPort::Close(std::function<void()> done) {
  Impl* p = impl_.get();
  p->closing = true;
  p->on_closed = std::move(done);
  for (Incoming* in : std::vector<Incoming*>(p->incoming.begin(), p->incoming.end())) p->Abort(in);
  if (p->listener_open) {
    uv_close(reinterpret_cast<uv_handle_t*>(&p->listener), [](uv_handle_t* h) {
      auto* port = static_cast<RaftPort::Impl*>(h->data);
      port->listener_open = false;
      port->MaybeClosed();
    });
  } else {
    p->MaybeClosed();
  }
}

}  // namespace kalam::cluster
