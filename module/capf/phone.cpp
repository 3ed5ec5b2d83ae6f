#include "capf/phone.h"

#include "capf/frame_channel.h"
#include "capf/listen_address.h"
#include "capf/tls_context.h"
#include "capf/tls_stream.h"
#include "pki/certificate.h"
#include "pki/keys.h"
#include "pki/possession_proof.h"
#include "pki/secure_file.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

namespace lscgate::capf {

std::filesystem::path phone_lsc_cert_path(const std::filesystem::path& dir, const std::string& name) {
    return dir / (name + ".lsc.pem");
}
std::filesystem::path phone_lsc_key_path(const std::filesystem::path& dir, const std::string& name) {
    return dir / (name + ".lsc.key");
}

namespace {

class Phone {
public:
    Phone(const PhoneOptions& o, FrameChannel& ch) : o_(o), ch_(ch) {}
    Result<PhoneResult> run();

private:
    Status send(Message m) {
        if (!ch_.send(m)) return fail("connection lost while sending " + command_name(m.command()));
        return {};
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
    Status keep_alive() {
        ++result_.keepalives_sent;
        return send(Message(Command::RequestInProgress, sid_));
    }
    Status pace_key_generation(std::chrono::steady_clock::time_point requested);
    Status on_keygen(const Message& m);
    Status on_store(const Message& m);
    Status on_fetch();
    Status on_delete();

    const PhoneOptions& o_;
    FrameChannel& ch_;
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
Status Phone::pace_key_generation(std::chrono::steady_clock::time_point requested) {
    double delay = o_.keygen_delay_seconds;
    if (o_.keygen_jitter_seconds > 0) {
        std::mt19937_64 rng(std::random_device{}());
        delay += std::uniform_real_distribution<double>(-o_.keygen_jitter_seconds, o_.keygen_jitter_seconds)(rng);
    }
    if (delay <= 0) return {};
    using seconds = std::chrono::duration<double>;
    const auto ready = requested + std::chrono::duration_cast<std::chrono::steady_clock::duration>(seconds(delay));
    const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        seconds(std::max(o_.keepalive_interval_seconds, 0.1)));
    for (auto next = requested + period; next < ready; next += period) {
        std::this_thread::sleep_until(next);
        if (auto s = keep_alive(); !s) return s;
    }
    std::this_thread::sleep_until(ready);
    return {};
}

Status Phone::on_keygen(const Message& m) {
    const auto requested = std::chrono::steady_clock::now();
    auto type = m.u8(Tag::KeyType);
    auto size = m.u16(Tag::KeySize);
    auto curve = m.u8(Tag::Curve);
    if (!type || !size || !curve) return fail("malformed KEY_GENERATE_REQUEST");
    KeySpec spec;
    if (!type->has_value() || **type == key_type::kRsa) {
        spec.type = KeyType::Rsa;
        spec.rsa_bits = size->value_or(2048);
    } else {
        auto c = curve_from_wire_code(curve->value_or(0));
        if (!c) return c.error();
        spec.type = KeyType::Ec;
        spec.curve = *c;
    }
    if (o_.fault == PhoneFault::WrongKey) spec = KeySpec{KeyType::Rsa, 1024, EcCurve::P256};
    for (int i = 0; i < o_.keepalives; ++i)
        if (auto s = keep_alive(); !s) return s;
    auto key = generate_key(spec);
    if (!key) return key.error();
    new_key_ = std::move(*key);
    if (auto s = pace_key_generation(requested); !s) return s;
    if (o_.fault == PhoneFault::DropAfterKeygen) return fail("dropped the connection after key generation (fault injected)");
    auto spki = public_key_der(new_key_.get());
    if (!spki) return spki.error();
    Message resp(Command::KeyGenerateResponse, sid_);
    resp.add_bytes(Tag::PublicKey, *spki);
    return send(resp);
}

Status Phone::on_store(const Message& m) {
    Message resp(Command::StoreCertificateResponse, sid_);
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
        return send(resp);
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
    return send(resp);
}

Status Phone::on_fetch() {
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
    return send(resp);
}

Status Phone::on_delete() {
    Message resp(Command::DeleteCertificateResponse, sid_);
    std::error_code ec;
    const bool had = std::filesystem::remove(phone_lsc_cert_path(o_.out_dir, o_.name), ec);
    std::filesystem::remove(phone_lsc_key_path(o_.out_dir, o_.name), ec);
    // A phone given its LSC by --cert has one even without files in out_dir.
    const bool deleted = had || o_.lsc.has_value();
    resp.add_u8(Tag::Reason, deleted ? reason::kUpdateCertificate : reason::kInvalidElement);
    if (deleted) result_.action = "deleted";
    return send(resp);
}

Result<PhoneResult> Phone::run() {
    const auto timeout = std::chrono::seconds(o_.timeout_seconds);
    Received hello = ch_.receive(timeout);
    if (hello.status != ReceiveStatus::Ok) return fail("no AUTH_REQUEST from server: " + to_string(hello.status) + " " + hello.detail);
    if (!hello.message.is(Command::AuthRequest)) return fail("server opened with " + command_name(hello.message.command()));
    sid_ = hello.message.session_id();

    Message auth(Command::AuthResponse, sid_);
    auth.add_u8(Tag::Reason, reason::kUpdateCertificate)
        .add_u8(Tag::Version, static_cast<std::uint8_t>(o_.version))
        .add_string(Tag::Password, o_.auth_string)
        .add_string(Tag::DeviceName, o_.name);
    if (auto s = add_proof(auth); !s) return s.error();
    if (auto s = add_sudi(auth); !s) return s.error();
    if (auto s = send(auth); !s) return s.error();

    while (true) {
        Received r = ch_.receive(timeout);
        if (r.status != ReceiveStatus::Ok)
            return fail("server ended without END_SESSION: " + to_string(r.status) + " " + r.detail);
        const Message& m = r.message;
        Status s;
        switch (static_cast<Command>(m.command())) {
            case Command::KeyGenerateRequest: s = on_keygen(m); break;
            case Command::StoreCertificateRequest: s = on_store(m); break;
            case Command::FetchCertificateRequest: s = on_fetch(); break;
            case Command::DeleteCertificateRequest: s = on_delete(); break;
            case Command::EndSession: {
                auto reason = m.u8(Tag::Reason);
                result_.end_reason = reason && reason->has_value() ? **reason : -1;
                return result_;
            }
            default: return fail("unexpected " + command_name(m.command()) + " from server");
        }
        if (!s) return s.error();
    }
}

}  // namespace

Result<std::shared_ptr<SSL_CTX>> make_phone_tls_context(const PhoneOptions& options) {
    std::vector<X509*> anchors;
    for (const auto& c : options.trusted_capf) anchors.push_back(c.get());
    auto ctx = make_client_tls_context(anchors, options.tls_version);
    if (!ctx) return ctx.error();
    return std::shared_ptr<SSL_CTX>(ctx->release(), SSL_CTX_free);
}

Result<PhoneResult> run_phone(const PhoneOptions& options) {
    auto where = parse_host_port(options.server);
    if (!where) return where.error();
    std::shared_ptr<SSL_CTX> ctx = options.tls_context;
    if (!ctx) {
        auto made = make_phone_tls_context(options);
        if (!made) return made.error();
        ctx = std::move(*made);
    }
    auto fd = connect_tcp(*where, options.timeout_seconds * 1000);
    if (!fd) return fd.error();
    TlsStream stream(SslPtr(SSL_new(ctx.get())), *fd);
    if (auto s = stream.connect(Clock::now() + std::chrono::seconds(options.timeout_seconds)); !s)
        return fail("TLS to the CAPF server failed (is --capf-cert the server's CAPF certificate?): " + s.message());
    FrameChannel channel(stream);
    Phone phone(options, channel);
    auto result = phone.run();
    if (result) {
        // A server closes after END_SESSION; wait (briefly, bounded) for that close
        // so that when this returns the server has finished the session, logged it
        // and released its slot: scripts and tests can then read its state at once.
        std::uint8_t byte = 0;
        (void)stream.read_some(&byte, 1, Clock::now() + std::chrono::seconds(std::min(options.timeout_seconds, 5)));
    }
    stream.shutdown();
    return result;
}

}  // namespace lscgate::capf
