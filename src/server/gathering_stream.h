// The byte stream under a WebSocket connection: while the connection is corked, what is
// written is gathered in memory and the write completes at once; the first write made
// uncorked sends everything gathered with it, in one system call. A connection with ten
// change messages queued sends them in one write instead of ten; the connection frames
// all but the last itself (AppendMessage), so they cost no WebSocket write operation each.
//
// The WebSocket stream issues one write at a time (its own control frames included), so
// at most one write of this stream is in flight: no queue of waiting writes is needed.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

namespace kalam::server {

class GatheringStream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  explicit GatheringStream(next_layer_type stream) : stream_(std::move(stream)) {}

  executor_type get_executor() { return stream_.get_executor(); }
  next_layer_type& next_layer() { return stream_; }
  const next_layer_type& next_layer() const { return stream_; }

  // Corked: writes are gathered (up to kMaxGathered bytes, past which they go out).
  void set_corked(bool corked) { corked_ = corked; }

  // Appends a whole WebSocket message, framed here as a server sends one (FIN, unmasked),
  // to what goes out with the next write. For the connection's own messages between the
  // WebSocket stream's message writes: REQUIRES none of them in progress, so a message's
  // frame is never split (the stream's control frames may come between messages).
  void AppendMessage(bool text, std::string_view payload) {
    unsigned char header[10];
    std::size_t n = 2;
    const std::size_t size = payload.size();
    header[0] = static_cast<unsigned char>(0x80 | (text ? 0x1 : 0x2));
    if (size < 126) {
      header[1] = static_cast<unsigned char>(size);
    } else if (size <= 0xffff) {
      header[1] = 126;
      header[2] = static_cast<unsigned char>(size >> 8);
      header[3] = static_cast<unsigned char>(size);
      n = 4;
    } else {
      header[1] = 127;
      for (int i = 0; i < 8; ++i) header[2 + i] = static_cast<unsigned char>(size >> (56 - 8 * i));
      n = 10;
    }
    Reserve(n + size);
    gathered_.append(reinterpret_cast<const char*>(header), n);
    gathered_.append(payload);
  }
  std::size_t gathered_bytes() const { return gathered_.size(); }
  static constexpr std::size_t kMaxGathered = 256 * 1024;

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return stream_.async_read_some(buffers, std::forward<ReadHandler>(handler));
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return boost::asio::async_initiate<WriteHandler, void(boost::system::error_code, std::size_t)>(
        [this](auto completion, const ConstBufferSequence& data) {
          Write(std::move(completion), data);
        },
        handler, buffers);
  }

 private:
  // Room for more bytes, growing by doubling from 4 KiB (a burst of small messages does
  // not reallocate at each).
  void Reserve(std::size_t more) {
    const std::size_t needed = gathered_.size() + more;
    if (needed > gathered_.capacity()) {
      gathered_.reserve(std::max<std::size_t>({needed, 2 * gathered_.capacity(), 4096}));
    }
  }

  template <class Handler, class ConstBufferSequence>
  void Write(Handler handler, const ConstBufferSequence& data) {
    namespace asio = boost::asio;
    const std::size_t size = asio::buffer_size(data);
    if (failed_) {
      Complete(std::move(handler), failed_, 0);
      return;
    }
    const std::size_t at = gathered_.size();
    Reserve(size);
    gathered_.resize(at + size);
    asio::buffer_copy(asio::buffer(gathered_.data() + at, size), data);
    if (corked_ && gathered_.size() < kMaxGathered) {
      Complete(std::move(handler), {}, size);
      return;
    }
    writing_.swap(gathered_);
    gathered_.clear();
    asio::async_write(stream_, asio::buffer(writing_),
                      [this, handler = std::move(handler), size](boost::system::error_code ec,
                                                                std::size_t) mutable {
                        // Sent: the buffer goes, so an idle connection holds none.
                        std::string().swap(writing_);
                        if (ec) failed_ = ec;
                        Complete(std::move(handler), ec, ec ? 0 : size);
                      });
  }

  // Runs handler on its own executor, never inside the call that started the write.
  template <class Handler>
  void Complete(Handler handler, boost::system::error_code ec, std::size_t size) {
    auto executor = boost::asio::get_associated_executor(handler, stream_.get_executor());
    boost::asio::post(executor, boost::beast::bind_front_handler(std::move(handler), ec, size));
  }

  next_layer_type stream_;
  std::string gathered_;  // written while corked, not yet sent
  std::string writing_;   // being sent
  bool corked_ = false;
  boost::system::error_code failed_;  // a send failed: so does every later write
};

// The closing handshake ends the TCP connection as it would without this layer.
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, GatheringStream& stream, TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

inline void teardown(boost::beast::role_type role, GatheringStream& stream, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

}  // namespace kalam::server
