#include "capf/tls_stream.h"

#include "pki/openssl_error.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <openssl/err.h>

#include <cerrno>
#include <cstring>

namespace lscgate::capf {

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
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            if (!wait_for(err, deadline)) return fail("TLS handshake timed out");
            continue;
        }
        if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
            if (ERR_peek_error() == 0) return fail("peer closed the connection during the TLS handshake");
        }
        return fail(openssl_error("TLS handshake failed"));
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
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            if (!wait_for(err, deadline)) return {IoStatus::Timeout, 0, "read timed out"};
            continue;
        }
        if (err == SSL_ERROR_ZERO_RETURN) return {IoStatus::Closed, 0, "peer sent close_notify"};
        if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return {IoStatus::Closed, 0, "peer closed the connection"};
        // An unexpected EOF mid-record (truncated TLS) lands here too.
        const std::string why = openssl_error("TLS read failed");
        return {IoStatus::Closed, 0, why};
    }
}

IoResult TlsStream::write_all(ByteView data, Clock::time_point deadline) {
    while (true) {
        ERR_clear_error();
        std::size_t written = 0;
        const int rc = SSL_write_ex(ssl_.get(), data.data(), data.size(), &written);
        if (rc == 1) return {IoStatus::Ok, written, {}};
        const int err = SSL_get_error(ssl_.get(), rc);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            if (!wait_for(err, deadline)) return {IoStatus::Timeout, 0, "write timed out"};
            continue;
        }
        return {IoStatus::Error, 0, openssl_error("TLS write failed")};
    }
}

}  // namespace lscgate::capf
