#pragma once

// A ByteStream over an OpenSSL connection on a non-blocking socket, so every
// read, write and handshake obeys a deadline instead of hanging a thread.

#include "capf/byte_stream.h"
#include "pki/openssl_handles.h"
#include "pki/result.h"

namespace lscgate::capf {

class TlsStream : public ByteStream {
public:
    // Takes ownership of `fd`; the socket is switched to non-blocking mode.
    TlsStream(SslPtr ssl, int fd);
    ~TlsStream() override;
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    Status accept(Clock::time_point deadline);
    Status connect(Clock::time_point deadline);
    void shutdown();  // best-effort close_notify

    IoResult read_some(std::uint8_t* buffer, std::size_t size, Clock::time_point deadline) override;
    IoResult write_all(ByteView data, Clock::time_point deadline) override;

    SSL* ssl() const { return ssl_.get(); }

private:
    // Waits until the socket is ready for what OpenSSL asked for; false on deadline.
    bool wait_for(int ssl_error, Clock::time_point deadline);
    Status handshake(bool server, Clock::time_point deadline);

    SslPtr ssl_;
    int fd_;
};

}  // namespace lscgate::capf
