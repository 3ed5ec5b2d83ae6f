#include "capf/tls_stream.h"

#include "capf/listen_address.h"
#include "capf/work_pool.h"
#include "pki/openssl_error.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <openssl/err.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace lscgate::capf {
namespace {

// Why a handshake step that did not ask to wait failed. Reads this thread's
// OpenSSL error queue: call it on the thread that ran the step.
Error handshake_failure(int ssl_error) {
    if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN) {
        if (ERR_peek_error() == 0) return fail("peer closed the connection during the TLS handshake");
    }
    return fail(openssl_error("TLS handshake failed"));
}

// A read that did not ask to wait: the peer closed, or the connection broke.
IoResult read_failure(int ssl_error) {
    if (ssl_error == SSL_ERROR_ZERO_RETURN) return {IoStatus::Closed, 0, "peer sent close_notify"};
    if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return {IoStatus::Closed, 0, "peer closed the connection"};
    // An unexpected EOF mid-record (truncated TLS) lands here too.
    return {IoStatus::Closed, 0, openssl_error("TLS read failed")};
}

bool wants_io(int ssl_error) { return ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE; }

// True when the next handshake step cannot hold a private-key operation, so it
// may run on the loop instead of being handed to a worker and back (two thread
// wake-ups): a TLS 1.3 server past its own Finished (OpenSSL then stands in
// TLS_ST_EARLY_DATA, early data being off) only checks the client's Finished
// (an HMAC; no client certificate is requested). Every other step may sign (the
// server's first flight) or decrypt (TLS 1.2's RSA key exchange).
bool light_step(SSL* ssl, bool server) {
    if (!server || SSL_version(ssl) != TLS1_3_VERSION) return false;
    const OSSL_HANDSHAKE_STATE state = SSL_get_state(ssl);
    return state == TLS_ST_SW_FINISHED || state == TLS_ST_EARLY_DATA;
}

}  // namespace

TlsStream::TlsStream(SslPtr ssl, int fd) : ssl_(std::move(ssl)), fd_(fd) {
    const int flags = ::fcntl(fd_, F_GETFL, 0);
    ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    SSL_set_fd(ssl_.get(), fd_);
}

TlsStream::~TlsStream() {
    ssl_.reset();
    if (fd_ >= 0) ::close(fd_);
}

bool TlsStream::wait_for(int ssl_error, Clock::time_point deadline) {
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (remaining <= 0) return false;
    pollfd p{fd_, static_cast<short>(ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN), 0};
    while (true) {
        const int rc = ::poll(&p, 1, static_cast<int>(remaining));
        if (rc < 0 && errno == EINTR) continue;
        return rc > 0;
    }
}

Status TlsStream::handshake(bool server, Clock::time_point deadline) {
    while (true) {
        ERR_clear_error();
        const int rc = server ? SSL_accept(ssl_.get()) : SSL_connect(ssl_.get());
        if (rc == 1) return {};
        const int err = SSL_get_error(ssl_.get(), rc);
        if (!wants_io(err)) return handshake_failure(err);
        if (!wait_for(err, deadline)) return fail("TLS handshake timed out");
    }
}

Status TlsStream::accept(Clock::time_point deadline) { return handshake(true, deadline); }
Status TlsStream::connect(Clock::time_point deadline) { return handshake(false, deadline); }

void TlsStream::shutdown() {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());  // one attempt: do not wait for the peer's close_notify
    ERR_clear_error();
}

IoResult TlsStream::read_some(std::uint8_t* buffer, std::size_t size, Clock::time_point deadline) {
    while (true) {
        ERR_clear_error();
        std::size_t got = 0;
        const int rc = SSL_read_ex(ssl_.get(), buffer, size, &got);
        if (rc == 1) return {IoStatus::Ok, got, {}};
        const int err = SSL_get_error(ssl_.get(), rc);
        if (!wants_io(err)) return read_failure(err);
        if (!wait_for(err, deadline)) return {IoStatus::Timeout, 0, "read timed out"};
    }
}

IoResult TlsStream::write_all(ByteView data, Clock::time_point deadline) {
    while (true) {
        ERR_clear_error();
        std::size_t written = 0;
        const int rc = SSL_write_ex(ssl_.get(), data.data(), data.size(), &written);
        if (rc == 1) return {IoStatus::Ok, written, {}};
        const int err = SSL_get_error(ssl_.get(), rc);
        if (!wants_io(err)) return {IoStatus::Error, 0, openssl_error("TLS write failed")};
        if (!wait_for(err, deadline)) return {IoStatus::Timeout, 0, "write timed out"};
    }
}

// ---------------------------------------------------------------------------

AsyncTlsStream::AsyncTlsStream(SslPtr ssl, int fd, const asio::any_io_executor& loop)
    : TlsStream(std::move(ssl), fd), socket_(loop, fd), timer_(loop), waits_(std::make_shared<WaitState>()) {
    SSL_set_mode(this->ssl(), SSL_MODE_RELEASE_BUFFERS);
    waits_->socket = &socket_;
}

AsyncTlsStream::~AsyncTlsStream() {
    // The fd stays TlsStream's to close: the loop only forgets it.
    waits_->socket = nullptr;
    asio::error_code ignored;
    socket_.cancel(ignored);
    (void)socket_.release();
}

void AsyncTlsStream::abort() { ::shutdown(fd(), SHUT_RDWR); }

asio::awaitable<bool> AsyncTlsStream::wait_ready(int ssl_error, Clock::time_point deadline) {
    if (deadline <= Clock::now()) co_return false;
    const auto what = ssl_error == SSL_ERROR_WANT_WRITE ? asio::posix::descriptor_base::wait_write
                                                         : asio::posix::descriptor_base::wait_read;
    // The deadline cancels the socket wait. Its handler may already be queued
    // when the wait ends another way (or the stream is gone): it then finds a
    // newer generation (or a dead stream) in the shared state and does nothing.
    const std::uint64_t generation = ++waits_->generation;
    waits_->timed_out = false;
    timer_.expires_at(deadline);
    timer_.async_wait([state = waits_, generation](const asio::error_code& ec) {
        if (ec || state->socket == nullptr || state->generation != generation) return;
        state->timed_out = true;
        asio::error_code ignored;
        state->socket->cancel(ignored);
    });
    asio::error_code ec;
    co_await socket_.async_wait(what, asio::redirect_error(asio::use_awaitable, ec));
    const bool timed_out = waits_->timed_out;
    ++waits_->generation;  // a deadline handler still queued is now stale
    timer_.cancel();
    co_return !ec && !timed_out;
}

asio::awaitable<Status> AsyncTlsStream::async_connected(Clock::time_point deadline) {
    const bool ready = co_await wait_ready(SSL_ERROR_WANT_WRITE, deadline);
    if (!ready) co_return fail("connection timed out");
    co_return finish_connect(fd());
}

asio::awaitable<Status> AsyncTlsStream::async_handshake(bool server, Clock::time_point deadline, WorkPool* pool) {
    // (Every co_await result goes to a local before it is tested: GCC 12
    // miscompiles some co_awaits inside conditions.)
    if (server) {
        // Nothing to do before the ClientHello: a first step handed to a worker
        // only to hear WANT_READ back cost two thread wake-ups per session.
        const bool hello = co_await wait_ready(SSL_ERROR_WANT_READ, deadline);
        if (!hello) co_return fail("TLS handshake timed out");
    }
    while (true) {
        int err = 0;
        bool done = false;
        std::optional<Error> failure;
        const auto step = [&] {
            ERR_clear_error();
            const int rc = server ? SSL_accept(ssl()) : SSL_connect(ssl());
            if (rc == 1) {
                done = true;
                return;
            }
            err = SSL_get_error(ssl(), rc);
            if (!wants_io(err)) failure = handshake_failure(err);  // this thread's error queue
        };
        if (light_step(ssl(), server)) step();
        else co_await run_blocking(pool, step);
        if (done) co_return Status{};
        if (failure) co_return *failure;
        const bool ready = co_await wait_ready(err, deadline);
        if (!ready) co_return fail("TLS handshake timed out");
    }
}

asio::awaitable<bool> AsyncTlsStream::async_readable(Clock::time_point deadline) {
    return wait_ready(SSL_ERROR_WANT_READ, deadline);
}

asio::awaitable<Status> AsyncTlsStream::async_accept(Clock::time_point deadline, WorkPool* pool) {
    return async_handshake(true, deadline, pool);
}

asio::awaitable<Status> AsyncTlsStream::async_connect(Clock::time_point deadline, WorkPool* pool) {
    return async_handshake(false, deadline, pool);
}

asio::awaitable<IoResult> AsyncTlsStream::async_read_some(std::uint8_t* buffer, std::size_t size,
                                                          Clock::time_point deadline) {
    while (true) {
        ERR_clear_error();
        std::size_t got = 0;
        const int rc = SSL_read_ex(ssl(), buffer, size, &got);
        if (rc == 1) co_return IoResult{IoStatus::Ok, got, {}};
        const int err = SSL_get_error(ssl(), rc);
        if (!wants_io(err)) co_return read_failure(err);
        const bool ready = co_await wait_ready(err, deadline);
        if (!ready) co_return IoResult{IoStatus::Timeout, 0, "read timed out"};
    }
}

asio::awaitable<IoResult> AsyncTlsStream::async_write_all(ByteView data, Clock::time_point deadline) {
    while (true) {
        ERR_clear_error();
        std::size_t written = 0;
        const int rc = SSL_write_ex(ssl(), data.data(), data.size(), &written);
        if (rc == 1) co_return IoResult{IoStatus::Ok, written, {}};
        const int err = SSL_get_error(ssl(), rc);
        if (!wants_io(err)) co_return IoResult{IoStatus::Error, 0, openssl_error("TLS write failed")};
        const bool ready = co_await wait_ready(err, deadline);
        if (!ready) co_return IoResult{IoStatus::Timeout, 0, "write timed out"};
    }
}

}  // namespace lscgate::capf
