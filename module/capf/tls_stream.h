#pragma once

// ByteStreams over an OpenSSL connection on a non-blocking socket, so every
// read, write and handshake obeys a deadline instead of hanging: TlsStream waits
// with poll(2) on its own thread (`lscgate doctor`, a single simulated phone);
// AsyncTlsStream suspends its coroutine on an asio event loop instead, so one
// thread holds thousands of them (`lscgate serve`, the phone fleet simulator).

#include "capf/byte_stream.h"
#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <asio/any_io_executor.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <memory>

namespace lscgate::capf {

class WorkPool;

class TlsStream : public ByteStream {
public:
    // Takes ownership of `fd`; the socket is switched to non-blocking mode.
    TlsStream(SslPtr ssl, int fd);
    ~TlsStream() override;
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    Status accept(Clock::time_point deadline);
    Status connect(Clock::time_point deadline);
    void shutdown();  // best-effort close_notify: one non-blocking attempt

    IoResult read_some(std::uint8_t* buffer, std::size_t size, Clock::time_point deadline) override;
    IoResult write_all(ByteView data, Clock::time_point deadline) override;

    SSL* ssl() const { return ssl_.get(); }
    int fd() const { return fd_; }

private:
    // Waits until the socket is ready for what OpenSSL asked for; false on deadline.
    bool wait_for(int ssl_error, Clock::time_point deadline);
    Status handshake(bool server, Clock::time_point deadline);

    SslPtr ssl_;
    int fd_;
};

/// A TlsStream whose waits are an event loop's: reads, writes and handshakes
/// suspend the calling coroutine (which must run on `loop`, one thread) until
/// the socket is ready or the deadline passes. OpenSSL releases the connection's
/// 16 KB read and write buffers whenever they are empty (SSL_MODE_RELEASE_BUFFERS),
/// so an idle session costs a few kilobytes.
class AsyncTlsStream : public TlsStream {
public:
    AsyncTlsStream(SslPtr ssl, int fd, const asio::any_io_executor& loop);
    ~AsyncTlsStream() override;  // takes the socket off the loop; TlsStream closes it

    /// Waits (suspended) until the peer sent something, e.g. its ClientHello;
    /// false when the deadline passed first (or the wait failed).
    asio::awaitable<bool> async_readable(Clock::time_point deadline);

    /// The TLS handshake as server (accept) or client (connect). Each OpenSSL step
    /// runs through `pool` (capf/work_pool.h: the server's RSA signature is in
    /// one), or on the loop when it is null; the waits between steps run on the
    /// loop. A server calls async_accept once the ClientHello is readable, so that
    /// its first step does not go to the pool only to learn that it must wait.
    asio::awaitable<Status> async_accept(Clock::time_point deadline, WorkPool* pool);
    asio::awaitable<Status> async_connect(Clock::time_point deadline, WorkPool* pool);

    asio::awaitable<IoResult> async_read_some(std::uint8_t* buffer, std::size_t size,
                                              Clock::time_point deadline) override;
    asio::awaitable<IoResult> async_write_all(ByteView data, Clock::time_point deadline) override;

    /// For a socket whose non-blocking connect(2) is in progress (capf/listen_address.h
    /// start_connect): waits until it is connected, or why not (refused, timed out).
    asio::awaitable<Status> async_connected(Clock::time_point deadline);

    /// Shuts the socket down both ways: a pending or later read sees the peer
    /// gone, so the session ends cleanly at its next wait (stopping after the grace).
    void abort();

private:
    // Waits (suspended) for what OpenSSL asked for; false on deadline or error.
    asio::awaitable<bool> wait_ready(int ssl_error, Clock::time_point deadline);
    asio::awaitable<Status> async_handshake(bool server, Clock::time_point deadline, WorkPool* pool);

    // What a deadline handler may look at after its wait ended, even after the
    // stream is gone (one per stream, shared with the queued handlers).
    struct WaitState {
        asio::posix::stream_descriptor* socket = nullptr;  // null once the stream is destroyed
        std::uint64_t generation = 0;                     // the wait a handler belongs to
        bool timed_out = false;
    };

    asio::posix::stream_descriptor socket_;  // the same fd, for the loop's readiness waits
    asio::steady_timer timer_;               // the current wait's deadline
    std::shared_ptr<WaitState> waits_;
};

}  // namespace lscgate::capf
