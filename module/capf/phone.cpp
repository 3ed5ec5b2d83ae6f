#include "capf/phone.h"

#include "capf/frame_channel.h"
#include "capf/listen_address.h"
#include "capf/tls_context.h"
#include "capf/tls_stream.h"
#include "pki/certificate.h"
#include "pki/keys.h"
#include "pki/possession_proof.h"
#include "pki/secure_file.h"

#include "capf/work_pool.h"

#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>

namespace lscgate::capf {

std::filesystem::path phone_lsc_cert_path(const std::filesystem::path& dir, const std::string& name) {
    return dir / (name + ".lsc.pem");
}
std::filesystem::path phone_lsc_key_path(const std::filesystem::path& dir, const std::string& name) {
    return dir / (name + ".lsc.key");
}

namespace {

// A (co)routine of one phone: every wait for the server suspends it, so one
// event loop holds thousands of them (`lscgate phone --count`); what costs CPU or
// touches files (key generation, proof signatures, the LSC files) runs through
// the work pool when there is one.
class Phone {
public:
    Phone(const PhoneOptions& o, FrameChannel& ch, WorkPool* pool) : o_(o), ch_(ch), pool_(pool) {}
    asio::awaitable<Result<PhoneResult>> run();

private:
    asio::awaitable<Status> send(Message m) {
        // (GCC 12 miscompiles a co_await inside a condition: the result goes to a local first.)
        const bool sent = co_await ch_.async_send(m);
        if (!sent) co_return fail("connection lost while sending " + command_name(m.command()));
        co_return Status{};
    }
    const PhoneIdentity* lsc() const { return o_.lsc ? &*o_.lsc : nullptr; }
    const PhoneIdentity* mic() const { return o_.mic ? &*o_.mic : nullptr; }
    // A phone presents its LSC when it has one, otherwise its MIC, unless set to prefer the MIC.
    const PhoneIdentity* presented() const {
        if (o_.prefer_mic && mic() != nullptr) return mic();
        return lsc() != nullptr ? lsc() : mic();
    }
    Status add_proof(Message& auth);
    Status add_sudi(Message& auth);
    asio::awaitable<Status> keep_alive() {
        ++result_.keepalives_sent;
        co_return co_await send(Message(Command::RequestInProgress, sid_));
    }
    asio::awaitable<Status> pace_key_generation(std::chrono::steady_clock::time_point requested);
    asio::awaitable<Status> on_keygen(const Message& m);
    Status store_lsc(const Message& m, Message& resp);
    asio::awaitable<Status> on_store(const Message& m);
    asio::awaitable<Status> on_fetch();
    asio::awaitable<Status> on_delete();

    const PhoneOptions& o_;
    FrameChannel& ch_;
    WorkPool* pool_;
    std::uint32_t sid_ = 0;
    EvpPkeyPtr new_key_;
    PhoneResult result_{-1, "none", {}};
};

Status Phone::add_proof(Message& auth) {
    const PhoneIdentity* id = presented();
    if (id == nullptr) return {};
    const Bytes der = certificate_der(id->cert.get());
    const std::uint8_t type = id == lsc() ? cert_type::kLsc : cert_type::kMic;
    const Bytes m = certificate_proof_message(o_.name, der);
    auto sha1 = sign_proof(id->key.get(), ProofHash::Sha1, m);
    auto sha512 = sign_proof(id->key.get(), ProofHash::Sha512, m);
    if (!sha1) return sha1.error();
    if (!sha512) return sha512.error();
    auth.add_bytes(Tag::Certificate, wrap_certificate(der, type));
    auth.add_bytes(Tag::SignedData, *sha1);
    auth.add_bytes(Tag::Sha2SignedData, encode_hashed_signature({hash_code::kSha512, *sha512}));
    return {};
}

// §7.4: M = session id as u32 little-endian || DER(SUDI certificate), signed in
// the raw §7.3 format with SHA-1 and SHA-512; the first sub-block carries the DER.
Status Phone::add_sudi(Message& auth) {
    if (!o_.sudi) return {};
    const Bytes der = certificate_der(o_.sudi->cert.get());
    Bytes m = {static_cast<std::uint8_t>(sid_), static_cast<std::uint8_t>(sid_ >> 8),
               static_cast<std::uint8_t>(sid_ >> 16), static_cast<std::uint8_t>(sid_ >> 24)};
    m.insert(m.end(), der.begin(), der.end());
    auto sha1 = sign_proof(o_.sudi->key.get(), ProofHash::Sha1, m);
    if (!sha1) return sha1.error();
    auto sha512 = sign_proof(o_.sudi->key.get(), ProofHash::Sha512, m);
    if (!sha512) return sha512.error();
    auth.add_bytes(Tag::SudiData, encode_sudi({der, {hash_code::kSha1, *sha1}, {hash_code::kSha512, *sha512}}));
    return {};
}

// A slow phone: answers no sooner than the (jittered) delay after the request,
// with a keep-alive every keepalive_interval_seconds while it waits.
asio::awaitable<Status> Phone::pace_key_generation(std::chrono::steady_clock::time_point requested) {
    double delay = o_.keygen_delay_seconds;
    if (o_.keygen_jitter_seconds > 0) {
        thread_local std::mt19937_64 rng(std::random_device{}());
        delay += std::uniform_real_distribution<double>(-o_.keygen_jitter_seconds, o_.keygen_jitter_seconds)(rng);
    }
    if (delay <= 0) co_return Status{};
    using seconds = std::chrono::duration<double>;
    const auto ready = requested + std::chrono::duration_cast<std::chrono::steady_clock::duration>(seconds(delay));
    const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        seconds(std::max(o_.keepalive_interval_seconds, 0.1)));
    const auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor);
    for (auto next = requested + period; next < ready; next += period) {
        timer.expires_at(next);
        co_await timer.async_wait(asio::use_awaitable);
        const Status s = co_await keep_alive();
        if (!s) co_return s;
    }
    timer.expires_at(ready);
    co_await timer.async_wait(asio::use_awaitable);
    co_return Status{};
}

asio::awaitable<Status> Phone::on_keygen(const Message& m) {
    const auto requested = std::chrono::steady_clock::now();
    auto type = m.u8(Tag::KeyType);
    auto size = m.u16(Tag::KeySize);
    auto curve = m.u8(Tag::Curve);
    if (!type || !size || !curve) co_return fail("malformed KEY_GENERATE_REQUEST");
    KeySpec spec;
    if (!type->has_value() || **type == key_type::kRsa) {
        spec.type = KeyType::Rsa;
        spec.rsa_bits = size->value_or(2048);
    } else {
        auto c = curve_from_wire_code(curve->value_or(0));
        if (!c) co_return c.error();
        spec.type = KeyType::Ec;
        spec.curve = *c;
    }
    if (o_.fault == PhoneFault::WrongKey) spec = KeySpec{KeyType::Rsa, 1024, EcCurve::P256};
    for (int i = 0; i < o_.keepalives; ++i) {
        const Status s = co_await keep_alive();
        if (!s) co_return s;
    }
    Status generated;
    co_await run_blocking(pool_, [&] {
        auto key = generate_key(spec);
        if (!key) generated = key.error();
        else new_key_ = std::move(*key);
    });
    if (!generated) co_return generated;
    const Status paced = co_await pace_key_generation(requested);
    if (!paced) co_return paced;
    if (o_.fault == PhoneFault::DropAfterKeygen) co_return fail("dropped the connection after key generation (fault injected)");
    auto spki = public_key_der(new_key_.get());
    if (!spki) co_return spki.error();
    Message resp(Command::KeyGenerateResponse, sid_);
    resp.add_bytes(Tag::PublicKey, *spki);
    co_return co_await send(resp);
}

// The LSC checked against the key generated and written to out_dir; `resp` gets its REASON.
Status Phone::store_lsc(const Message& m, Message& resp) {
    const Bytes* wrapped = m.find(Tag::Certificate);
    if (wrapped == nullptr || !new_key_) return fail("STORE_CERTIFICATE_REQUEST without a certificate or before keygen");
    auto w = unwrap_certificate(*wrapped);
    if (!w) return w.error();
    auto cert = parse_certificate_der(w->der);
    if (!cert) return cert.error();
    if (!same_public_key(X509_get0_pubkey(cert->get()), new_key_.get()))
        return fail("server returned a certificate for a different key");
    if (o_.fault == PhoneFault::RefuseStore) {
        resp.add_u8(Tag::Reason, reason::kInvalidElement);
        return {};
    }
    std::error_code ec;
    std::filesystem::create_directories(o_.out_dir, ec);
    if (auto s = save_private_key(phone_lsc_key_path(o_.out_dir, o_.name), new_key_.get(), o_.sync_files); !s) return s;
    if (auto s = write_file_atomically(phone_lsc_cert_path(o_.out_dir, o_.name), certificate_pem(cert->get()),
                                       FileMode::Public, o_.sync_files ? Durability::Synced : Durability::Unsynced);
        !s)
        return s;
    auto facts = describe_certificate(cert->get());
    result_.action = "installed";
    result_.detail = facts ? "subject=" + facts->subject + " serial=" + facts->serial_hex : "";
    resp.add_u8(Tag::Reason, reason::kUpdateCertificate);
    return {};
}

asio::awaitable<Status> Phone::on_store(const Message& m) {
    Message resp(Command::StoreCertificateResponse, sid_);
    Status stored;
    co_await run_blocking(pool_, [&] { stored = store_lsc(m, resp); });
    if (!stored) co_return stored;
    co_return co_await send(resp);
}

asio::awaitable<Status> Phone::on_fetch() {
    Message resp(Command::FetchCertificateResponse, sid_);
    const PhoneIdentity* id = presented();
    if (id == nullptr) {
        resp.add_u8(Tag::Reason, reason::kInvalidElement);
    } else {
        resp.add_u8(Tag::Reason, reason::kUpdateCertificate);
        resp.add_bytes(Tag::Certificate, wrap_certificate(certificate_der(id->cert.get()),
                                                          id == lsc() ? cert_type::kLsc : cert_type::kMic));
        result_.action = "fetched";
    }
    co_return co_await send(resp);
}

asio::awaitable<Status> Phone::on_delete() {
    Message resp(Command::DeleteCertificateResponse, sid_);
    bool had = false;
    co_await run_blocking(pool_, [&] {
        std::error_code ec;
        had = std::filesystem::remove(phone_lsc_cert_path(o_.out_dir, o_.name), ec);
        std::filesystem::remove(phone_lsc_key_path(o_.out_dir, o_.name), ec);
    });
    // A phone given its LSC by --cert has one even without files in out_dir.
    const bool deleted = had || o_.lsc.has_value();
    resp.add_u8(Tag::Reason, deleted ? reason::kUpdateCertificate : reason::kInvalidElement);
    if (deleted) result_.action = "deleted";
    co_return co_await send(resp);
}

asio::awaitable<Result<PhoneResult>> Phone::run() {
    const auto timeout = std::chrono::seconds(o_.timeout_seconds);
    Received hello = co_await ch_.async_receive(timeout);
    if (hello.status != ReceiveStatus::Ok)
        co_return fail("no AUTH_REQUEST from server: " + to_string(hello.status) + " " + hello.detail);
    if (!hello.message.is(Command::AuthRequest)) co_return fail("server opened with " + command_name(hello.message.command()));
    sid_ = hello.message.session_id();

    Message auth(Command::AuthResponse, sid_);
    auth.add_u8(Tag::Reason, reason::kUpdateCertificate)
        .add_u8(Tag::Version, static_cast<std::uint8_t>(o_.version))
        .add_string(Tag::Password, o_.auth_string)
        .add_string(Tag::DeviceName, o_.name);
    Status proven;
    co_await run_blocking(pool_, [&] {
        proven = add_proof(auth);
        if (proven) proven = add_sudi(auth);
    });
    if (!proven) co_return proven.error();
    const Status sent = co_await send(auth);
    if (!sent) co_return sent.error();

    while (true) {
        Received r = co_await ch_.async_receive(timeout);
        if (r.status != ReceiveStatus::Ok)
            co_return fail("server ended without END_SESSION: " + to_string(r.status) + " " + r.detail);
        const Message& m = r.message;
        Status s;
        switch (static_cast<Command>(m.command())) {
            case Command::KeyGenerateRequest: s = co_await on_keygen(m); break;
            case Command::StoreCertificateRequest: s = co_await on_store(m); break;
            case Command::FetchCertificateRequest: s = co_await on_fetch(); break;
            case Command::DeleteCertificateRequest: s = co_await on_delete(); break;
            case Command::EndSession: {
                auto reason = m.u8(Tag::Reason);
                result_.end_reason = reason && reason->has_value() ? **reason : -1;
                co_return result_;
            }
            default: co_return fail("unexpected " + command_name(m.command()) + " from server");
        }
        if (!s) co_return s.error();
    }
}

// A TCP connection to the first of `addresses` that answers, as a TLS stream on the caller's loop.
asio::awaitable<Result<std::unique_ptr<AsyncTlsStream>>> connect_phone(const std::vector<TcpAddress>& addresses,
                                                                        SSL_CTX* ctx, const HostPort& where,
                                                                        Clock::time_point deadline) {
    // (No co_await inside a condition or an argument list: GCC 12 miscompiles some.)
    const auto executor = co_await asio::this_coro::executor;
    std::string why = "no usable address";
    for (const TcpAddress& address : addresses) {
        auto started = start_connect(address);
        if (!started) {
            why = started.message();
            continue;
        }
        SslPtr ssl(SSL_new(ctx));
        if (!ssl) {  // out of memory: nothing owns the socket yet
            ::close(started->fd);
            co_return fail(ErrorKind::Internal, "SSL_new failed (out of memory)");
        }
        auto stream = std::make_unique<AsyncTlsStream>(std::move(ssl), started->fd, executor);
        Status connected;
        if (started->in_progress) connected = co_await stream->async_connected(deadline);
        if (connected) co_return std::move(stream);
        why = connected.message();
    }
    co_return fail("cannot connect to " + where.host + ":" + std::to_string(where.port) + ": " + why);
}

}  // namespace

Result<std::shared_ptr<SSL_CTX>> make_phone_tls_context(const PhoneOptions& options) {
    std::vector<X509*> anchors;
    for (const auto& c : options.trusted_capf) anchors.push_back(c.get());
    auto ctx = make_client_tls_context(anchors, options.tls_version);
    if (!ctx) return ctx.error();
    return std::shared_ptr<SSL_CTX>(ctx->release(), SSL_CTX_free);
}

asio::awaitable<Result<PhoneResult>> run_phone_async(const PhoneOptions& options, WorkPool* pool) {
    auto where = parse_host_port(options.server);
    if (!where) co_return where.error();
    std::shared_ptr<SSL_CTX> ctx = options.tls_context;
    if (!ctx) {
        auto made = make_phone_tls_context(options);
        if (!made) co_return made.error();
        ctx = std::move(*made);
    }
    Result<std::vector<TcpAddress>> addresses = fail("not resolved");
    co_await run_blocking(pool, [&] { addresses = resolve_tcp(*where); });  // DNS may wait
    if (!addresses) co_return addresses.error();
    const auto deadline = Clock::now() + std::chrono::seconds(options.timeout_seconds);
    auto stream = co_await connect_phone(*addresses, ctx.get(), *where, deadline);
    if (!stream) co_return stream.error();
    const Status secured = co_await (*stream)->async_connect(deadline, nullptr);
    if (!secured)
        co_return fail("TLS to the CAPF server failed (is --capf-cert the server's CAPF certificate?): " + secured.message());
    FrameChannel channel(**stream);
    Phone phone(options, channel, pool);
    auto result = co_await phone.run();
    if (result) {
        // A server closes after END_SESSION; wait (briefly, bounded) for that close
        // so that when this returns the server has finished the session, logged it
        // and released its slot: scripts and tests can then read its state at once.
        std::uint8_t byte = 0;
        (void)co_await (*stream)->async_read_some(
            &byte, 1, Clock::now() + std::chrono::seconds(std::min(options.timeout_seconds, 5)));
    }
    (*stream)->shutdown();
    co_return result;
}

Result<PhoneResult> run_phone(const PhoneOptions& options) {
    asio::io_context loop(1);
    std::optional<Result<PhoneResult>> out;
    asio::co_spawn(
        loop,
        [&]() -> asio::awaitable<void> {
            auto result = co_await run_phone_async(options, nullptr);
            out.emplace(std::move(result));
        },
        [](const std::exception_ptr& e) {
            if (e) std::rethrow_exception(e);  // out of loop.run()
        });
    loop.run();
    return std::move(*out);
}

}  // namespace lscgate::capf
