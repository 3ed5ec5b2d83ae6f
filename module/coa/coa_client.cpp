#include "coa/coa_client.h"

#include "coa/coa_wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

namespace lscgate {
namespace {

struct PacketFree {
    void operator()(lscgate_coa_packet* p) const noexcept { lscgate_coa_packet_free(p); }
};
using Packet = std::unique_ptr<lscgate_coa_packet, PacketFree>;

// A UDP socket, closed when it goes out of scope.
class UdpSocket {
public:
    explicit UdpSocket(int fd) noexcept : fd_(fd) {}
    ~UdpSocket() {
        if (fd_ >= 0) ::close(fd_);
    }
    UdpSocket(UdpSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UdpSocket& operator=(UdpSocket&&) = delete;
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;
    int fd() const noexcept { return fd_; }

private:
    int fd_;
};

// The error buffer the C shim writes into.
struct WireError {
    char text[512] = "";
    std::string str() const { return text; }
};

CoaReply failed(CoaReply reply, ErrorKind kind, std::string message) {
    reply.outcome = CoaOutcome::Error;
    reply.error = fail(kind, std::move(message));
    return reply;
}

std::optional<int> family_of(const std::string& nas) {
    unsigned char buf[16];
    if (::inet_pton(AF_INET, nas.c_str(), buf) == 1) return AF_INET;
    if (::inet_pton(AF_INET6, nas.c_str(), buf) == 1) return AF_INET6;
    return std::nullopt;
}

// What waiting for one try's answer came to.
enum class Wait { Answered, NoAnswer, Failed };

// Reads datagrams until a verified answer to `request` or the deadline; fills
// `reply` (outcome, error cause) on an answer and counts what it discards.
// `bad_auth` collects the last verification failure (a NAS with another secret).
Wait await_answer(int fd, lscgate_coa_packet* request, const std::string& secret, CoaMode mode,
                  std::chrono::steady_clock::time_point deadline, CoaReply& reply, std::string& bad_auth) {
    const int ack = mode == CoaMode::Disconnect ? LSCGATE_COA_DISCONNECT_ACK : LSCGATE_COA_COA_ACK;
    const int nak = mode == CoaMode::Disconnect ? LSCGATE_COA_DISCONNECT_NAK : LSCGATE_COA_COA_NAK;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return Wait::NoAnswer;
        pollfd pfd{fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0) {
            if (errno == EINTR) continue;
            reply = failed(reply, ErrorKind::Internal, std::string("poll: ") + std::strerror(errno));
            return Wait::Failed;
        }
        if (ready == 0) return Wait::NoAnswer;
        WireError err;
        Packet answer(lscgate_coa_recv(fd, err.text, sizeof err.text));
        if (!answer || !lscgate_coa_answers(answer.get(), request)) {
            ++reply.discarded;
            continue;
        }
        if (lscgate_coa_verify(answer.get(), request, secret.c_str(), err.text, sizeof err.text) != 0) {
            ++reply.discarded;
            bad_auth = err.str();
            continue;
        }
        const int code = lscgate_coa_code(answer.get());
        if (code == ack) {
            reply.outcome = CoaOutcome::Ack;
        } else if (code == nak) {
            reply.outcome = CoaOutcome::Nak;
            const long cause = lscgate_coa_error_cause(answer.get());
            reply.error_cause = cause > 0 ? static_cast<std::uint32_t>(cause) : 0;
        } else {
            reply = failed(reply, ErrorKind::Input,
                           "the NAS answered with packet code " + std::to_string(code) + ", expected " +
                               std::to_string(ack) + " or " + std::to_string(nak));
            return Wait::Failed;
        }
        return Wait::Answered;
    }
}

// The request packet with its attributes, or the reason it cannot be built.
Result<Packet> build_packet(const CoaRequest& request) {
    WireError err;
    Packet packet(lscgate_coa_request_new(request_code(request.mode), request.nas.c_str(), request.port, err.text,
                                          sizeof err.text));
    if (!packet) return fail(ErrorKind::Input, "NAS " + request.nas + ": " + err.str());
    for (const auto& a : request.attributes) {
        if (lscgate_coa_add(packet.get(), a.name.c_str(), a.value.c_str(), err.text, sizeof err.text) != 0)
            return fail(ErrorKind::Input, "attribute refused by the FreeRADIUS dictionary: " + err.str());
    }
    return packet;
}

}  // namespace

CoaReply send_coa(const CoaRequest& request, const std::string& secret, const CoaRetry& retry) {
    CoaReply reply;
    WireError err;
    if (lscgate_coa_wire_init(err.text, sizeof err.text) != 0) return failed(reply, ErrorKind::Internal, err.str());
    if (secret.empty()) return failed(reply, ErrorKind::Config, "empty shared secret for NAS " + request.nas);
    if (retry.tries < 1 || retry.timeout.count() < 1)
        return failed(reply, ErrorKind::Config, "CoA needs at least one try and a timeout");
    const auto family = family_of(request.nas);
    if (!family) return failed(reply, ErrorKind::Input, "'" + request.nas + "' is not an IP address");
    auto packet = build_packet(request);
    if (!packet) return failed(reply, packet.kind(), packet.message());
    UdpSocket socket(::socket(*family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (socket.fd() < 0) return failed(reply, ErrorKind::Internal, std::string("socket: ") + std::strerror(errno));
    std::string bad_auth;
    for (int t = 0; t < retry.tries; ++t) {
        if (lscgate_coa_send(packet->get(), socket.fd(), secret.c_str(), err.text, sizeof err.text) != 0)
            return failed(reply, ErrorKind::Unavailable, "NAS " + request.nas + ": " + err.str());
        ++reply.tries;
        const auto deadline = std::chrono::steady_clock::now() + retry.timeout;
        const Wait w = await_answer(socket.fd(), packet->get(), secret, request.mode, deadline, reply, bad_auth);
        if (w != Wait::NoAnswer) return reply;
    }
    if (!bad_auth.empty())
        return failed(reply, ErrorKind::AuthFailed,
                      "NAS " + request.nas + " answered, but not one answer verified with its shared secret (" +
                          bad_auth + "): the secret in [coa] secrets_file differs from the switch's server-key");
    reply.outcome = CoaOutcome::Timeout;
    return reply;
}

}  // namespace lscgate
