// Server-side CAPF session (module/capf/PROTOCOL.md §6, §7, §6.8, §10), driven by a
// scripted phone over a MemoryStream. Every case checks what the server sent
// (down to the END_SESSION reason, or that none was sent) and what the store
// holds afterwards (no half-written rows).

#include "capf/codec.h"
#include "capf/frame_channel.h"
#include "capf/memory_stream.h"
#include "capf/protocol.h"
#include "capf/operation_claim.h"
#include "capf/session.h"
#include "capf/session_cause.h"
#include "pki/auth_secret.h"
#include "pki/certificate.h"
#include "pki/keys.h"
#include "pki/possession_proof.h"
#include "registry/device_name.h"
#include "registry/sqlite_handles.h"
#include "registry/store.h"
#include "pki/trust_set.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace lscgate {
// Readable failure messages for the store enums.
inline void PrintTo(OperationState s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(CertificateStatus s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(CertificateKind k, std::ostream* os) { *os << to_string(k); }
}  // namespace lscgate

namespace lscgate::capf {
// Failure messages name the class as the log line does ("none" when succeeded).
inline void PrintTo(SessionCause c, std::ostream* os) { *os << (c == SessionCause::None ? "none" : to_string(c)); }

namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kSid = 0x0BADF00Du;
const std::string kDevice = "SEP001122334455";
const std::string kOtherDevice = "SEP00AABBCCDDEE";

// Keys and CAs are expensive to make; one set serves every test.
struct Pki {
    test::TestCa capf = test::make_root_ca("CN=CAPF-session,OU=Voice,O=Example");
    test::TestCa mic_root = test::make_root_ca("CN=Cisco Manufacturing CA SHA2,O=Cisco");
    test::TestCa rogue = test::make_root_ca("CN=CAPF-session,OU=Voice,O=Example");  // same name, other key
    EvpPkeyPtr phone_rsa = test::make_key("rsa:2048");
    EvpPkeyPtr phone_rsa_new = test::make_key("rsa:2048");
    EvpPkeyPtr phone_rsa_1024 = test::make_key("rsa:1024");
    EvpPkeyPtr phone_ec = test::make_key("ec:p256");
    EvpPkeyPtr phone_ec_384 = test::make_key("ec:p384");
    EvpPkeyPtr other_phone = test::make_key("ec:p256");
    EvpPkeyPtr mic_key = test::make_key("rsa:2048");
    X509Ptr mic = test::make_leaf(mic_root, mic_key.get(), "CN=CP-8841-SEP001122334455,O=Cisco Systems Inc.");
    X509Ptr foreign_mic = test::make_leaf(mic_root, mic_key.get(), "CN=CP-8841-SEP0000DEADBEEF,O=Cisco Systems Inc.");
};

Pki& pki() {
    static Pki p;
    return p;
}

Bytes wire(const Message& m) {
    auto r = encode(m);
    if (!r) throw std::runtime_error(r.message());
    return *r;
}

Bytes spki(EVP_PKEY* key) {
    auto r = public_key_der(key);
    if (!r) throw std::runtime_error(r.message());
    return *r;
}

Bytes sign(EVP_PKEY* key, ProofHash hash, ByteView message) {
    auto r = sign_proof(key, hash, message);
    if (!r) throw std::runtime_error(r.message());
    return *r;
}

std::string fingerprint(const X509* cert) { return sha256_hex(certificate_der(cert)); }

// Phone messages --------------------------------------------------------------

Message auth_response(const std::string& name = kDevice, std::optional<std::string> password = std::string(),
                      std::optional<std::uint8_t> version = 3, std::uint32_t sid = kSid) {
    Message m(Command::AuthResponse, sid);
    m.add_u8(Tag::Reason, reason::kUpdateCertificate);
    if (version) m.add_u8(Tag::Version, *version);
    if (password) m.add_string(Tag::Password, *password);
    if (!name.empty()) m.add_string(Tag::DeviceName, name);
    return m;
}

struct ProofOptions {
    bool sha1 = true;
    bool sha2 = true;
    bool corrupt_sha1 = false;
    bool corrupt_sha2 = false;
    std::uint8_t sha2_hash_code = hash_code::kSha512;
    std::string signed_name;  // the name inside M; empty = the claimed device name
};

ProofOptions signatures(bool sha1, bool sha2) {
    ProofOptions o;
    o.sha1 = sha1;
    o.sha2 = sha2;
    return o;
}
ProofOptions tweak(void (*f)(ProofOptions&)) {
    ProofOptions o;
    f(o);
    return o;
}

// §7.3: CERTIFICATE + SIGNED_DATA (SHA-1) + SHA2_SIGNED_DATA (SHA-512) over M = name || 00 || DER.
void add_proof(Message& m, const std::string& name, const X509* cert, EVP_PKEY* key, const ProofOptions& o = {}) {
    const Bytes der = certificate_der(cert);
    const Bytes msg = certificate_proof_message(o.signed_name.empty() ? name : o.signed_name, der);
    m.add_bytes(Tag::Certificate, wrap_certificate(der, cert_type::kLsc));
    if (o.sha1) {
        Bytes s = sign(key, ProofHash::Sha1, msg);
        if (o.corrupt_sha1) s[s.size() / 2] ^= 0x01;
        m.add_bytes(Tag::SignedData, s);
    }
    if (o.sha2) {
        Bytes s = sign(key, ProofHash::Sha512, msg);
        if (o.corrupt_sha2) s[s.size() / 2] ^= 0x01;
        m.add_bytes(Tag::Sha2SignedData, encode_hashed_signature({o.sha2_hash_code, s}));
    }
}

Message keygen_response(EVP_PKEY* key, std::uint32_t sid = kSid) {
    Message m(Command::KeyGenerateResponse, sid);
    m.add_bytes(Tag::PublicKey, spki(key));
    return m;
}

Message reason_message(Command c, std::uint8_t reason, std::uint32_t sid = kSid) {
    Message m(c, sid);
    m.add_u8(Tag::Reason, reason);
    return m;
}

Message store_ok() { return reason_message(Command::StoreCertificateResponse, reason::kUpdateCertificate); }
Message rip() { return Message(Command::RequestInProgress, kSid); }

// A stream that accepts every write except END_SESSION frames (§10 last row).
class EndSessionWriteFails : public MemoryStream {
public:
    IoResult write_all(ByteView data, Clock::time_point deadline) override {
        if (data.size() >= 2 && data[1] == static_cast<std::uint8_t>(Command::EndSession)) {
            ++refused;
            return {IoStatus::Error, 0, "connection reset"};
        }
        return MemoryStream::write_all(data, deadline);
    }
    int refused = 0;
};

// Records the deadline of every read, to check which wait uses which timeout.
class DeadlineRecordingStream : public MemoryStream {
public:
    IoResult read_some(std::uint8_t* buffer, std::size_t size, Clock::time_point deadline) override {
        const auto now = Clock::now();
        deadlines.push_back(deadline);
        remaining.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
        return MemoryStream::read_some(buffer, size, deadline);
    }
    std::vector<Clock::time_point> deadlines;
    std::vector<std::chrono::milliseconds> remaining;
};

struct SessionRun {
    SessionOutcome outcome;
    std::vector<Message> frames;  // what the server wrote, decoded

    std::vector<int> commands() const {
        std::vector<int> out;
        for (const auto& f : frames) out.push_back(f.command());
        return out;
    }
    // The END_SESSION reason on the wire; -1 when no END_SESSION was written.
    int end_reason() const {
        int found = -1;
        int count = 0;
        for (const auto& f : frames) {
            if (!f.is(Command::EndSession)) continue;
            ++count;
            auto r = f.u8(Tag::Reason);
            found = r && r->has_value() ? **r : -2;
        }
        if (count > 1) return -100;  // exactly one END_SESSION ends a session (§6.5)
        if (count == 1 && !frames.back().is(Command::EndSession)) return -200;  // and it is the last message
        return found;
    }
    const Message* find(Command c) const {
        for (const auto& f : frames)
            if (f.is(c)) return &f;
        return nullptr;
    }
};

const std::vector<int> kAuthThenEnd = {1, 15};
const std::vector<int> kOnlyAuthRequest = {1};
const std::vector<int> kFullInstall = {1, 3, 9, 15};

class CapfSession : public ::testing::Test {
protected:
    static void SetUpTestSuite() { (void)pki(); }

    void SetUp() override {
        settings.reply_timeout = 200ms;
        settings.keygen_timeout = 200ms;
        settings.lockout_failures = 3;
        settings.lockout_seconds = 900;
        ASSERT_TRUE(store.add_device(kDevice, "Cisco 8841", "", "test"));
    }

    static TrustSet build_trust() {
        auto t = TrustSet::build({pki().capf.cert.get()}, {pki().mic_root.cert.get()});
        if (!t) throw std::runtime_error(t.message());
        return std::move(*t);
    }

    Operation schedule(OperationKind kind, AuthMode mode = AuthMode::Null, const std::string& key = "rsa:2048",
                       const std::string& auth_string = "", std::optional<UnixTime> completes_by = std::nullopt,
                       const std::string& device = kDevice) {
        OperationRequest req;
        req.kind = kind;
        req.auth_mode = mode;
        auto spec = parse_key_spec(key);
        if (!spec) throw std::runtime_error(spec.message());
        req.key = *spec;
        if (!auth_string.empty()) {
            auto h = hash_auth_string(auth_string);
            if (!h) throw std::runtime_error(h.message());
            req.auth_secret_hash = *h;
        }
        req.completes_by = completes_by;
        auto op = store.schedule_operation(device, req, "test");
        if (!op) throw std::runtime_error(op.message());
        return *op;
    }

    // An LSC issued by our CAPF and recorded as the device's active one (as a finished install leaves it).
    X509Ptr give_active_lsc(const std::string& device, EVP_PKEY* key) {
        auto cert = authority.issue_lsc(device, key, 30);
        if (!cert) throw std::runtime_error(cert.message());
        const Operation op = schedule(OperationKind::Install, AuthMode::Null, "rsa:2048", "", std::nullopt, device);
        auto rec = store.commit_issued_lsc(op, cert->get());
        if (!rec) throw std::runtime_error(rec.message());
        return std::move(*cert);
    }

    SessionRun run_stream(MemoryStream& stream) {
        FrameChannel channel(stream);
        SessionContext ctx{store, authority, trust, settings};
        SessionRun r;
        r.outcome = run_session(channel, ctx, kSid);
        last = r.outcome;
        // Every session names a class exactly when it did not succeed (issue 10 item 4).
        EXPECT_EQ(r.outcome.result == "succeeded", r.outcome.cause_class == SessionCause::None)
            << r.outcome.result << " class=" << (r.outcome.cause_class == SessionCause::None ? "none" : to_string(r.outcome.cause_class))
            << ": " << r.outcome.cause;
        for (const Bytes& f : stream.take_written_frames()) {
            auto m = decode_frame(f);
            if (!m) throw std::runtime_error("server wrote an undecodable frame: " + m.message());
            EXPECT_EQ(m->session_id(), kSid) << "every server message carries the session id";
            r.frames.push_back(std::move(*m));
        }
        return r;
    }

    SessionRun run(const std::vector<Message>& phone, bool timeout_when_empty = false) {
        MemoryStream stream;
        for (const auto& m : phone) stream.push(wire(m));
        stream.set_timeout_when_empty(timeout_when_empty);
        return run_stream(stream);
    }

    SessionRun run_raw(const std::vector<Bytes>& chunks, bool timeout_when_empty = false) {
        MemoryStream stream;
        for (const auto& c : chunks) stream.push(c);
        stream.set_timeout_when_empty(timeout_when_empty);
        return run_stream(stream);
    }

    Operation op_now(std::int64_t id) {
        auto ops = store.list_operations(std::nullopt, true);
        if (!ops) throw std::runtime_error(ops.message());
        for (auto& o : *ops)
            if (o.id == id) return o;
        throw std::runtime_error("operation vanished");
    }
    OperationState state_of(const Operation& op) { return op_now(op.id).state; }
    int count_audit(const std::string& action) {
        auto events = store.list_audit(1000);
        if (!events) throw std::runtime_error(events.message());
        int n = 0;
        for (const auto& e : *events) n += e.action == action ? 1 : 0;
        return n;
    }

    std::vector<CertificateRecord> certs(const std::string& device = kDevice) {
        auto c = store.list_certificates(device);
        if (!c) throw std::runtime_error(c.message());
        return *c;
    }
    std::optional<CertificateRecord> active(const std::string& device = kDevice) {
        auto a = store.active_lsc(device);
        if (!a) throw std::runtime_error(a.message());
        return *a;
    }
    Device device(const std::string& name = kDevice) {
        auto d = store.find_device(name);
        if (!d || !d->has_value()) throw std::runtime_error("device vanished");
        return **d;
    }

    // The failure invariant of §10: the operation is still open for a retry and no
    // certificate row was written for the device.
    void expect_untouched(const Operation& op, std::size_t cert_rows = 0) {
        EXPECT_EQ(state_of(op), OperationState::Pending);
        EXPECT_EQ(certs().size(), cert_rows);
    }

    // The LSC the server delivered in `r` is in the registry with `status`: a
    // phone never holds an LSC the registry does not know (issue 7 item 4).
    void expect_delivered_recorded(const SessionRun& r, CertificateStatus status) {
        const Message* store_req = r.find(Command::StoreCertificateRequest);
        ASSERT_NE(store_req, nullptr) << "no LSC was delivered";
        auto w = unwrap_certificate(*store_req->find(Tag::Certificate));
        ASSERT_TRUE(w);
        auto cert = parse_certificate_der(w->der);
        ASSERT_TRUE(cert);
        auto rec = store.find_certificate_by_fingerprint(fingerprint(cert->get()));
        ASSERT_TRUE(rec);
        ASSERT_TRUE(rec->has_value()) << "the phone holds an LSC the registry never recorded";
        EXPECT_EQ((*rec)->status, status);
        EXPECT_EQ((*rec)->device_name, kDevice);
    }

    test::TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    CapfAuthority authority = test::authority_from(pki().capf);
    TrustSet trust = build_trust();
    SessionSettings settings;
    SessionOutcome last;  // the latest run's outcome, for checks after a one-line run(...)
};

// Checks the delivered LSC: for `key`, CN = device, signed by the CAPF, chain-valid.
X509Ptr check_delivered_lsc(const SessionRun& r, EVP_PKEY* key, const std::string& device, const TrustSet& trust) {
    const Message* store_req = r.find(Command::StoreCertificateRequest);
    EXPECT_NE(store_req, nullptr);
    if (store_req == nullptr) return nullptr;
    auto type = store_req->u8(Tag::CertificateType);
    EXPECT_TRUE(type && type->has_value() && **type == cert_type::kLsc);
    const Bytes* wrapped = store_req->find(Tag::Certificate);
    EXPECT_NE(wrapped, nullptr);
    if (wrapped == nullptr) return nullptr;
    auto w = unwrap_certificate(*wrapped);
    EXPECT_TRUE(w) << (w ? "" : w.message());
    if (!w) return nullptr;
    EXPECT_EQ(w->type, cert_type::kLsc);
    auto cert = parse_certificate_der(w->der);
    EXPECT_TRUE(cert);
    if (!cert) return nullptr;
    EXPECT_TRUE(same_public_key(X509_get0_pubkey(cert->get()), key)) << "LSC must carry the phone's key";
    EXPECT_EQ(X509_verify(cert->get(), pki().capf.key.get()), 1) << "LSC must be signed by the CAPF";
    EXPECT_EQ(X509_check_issued(pki().capf.cert.get(), cert->get()), X509_V_OK);
    EXPECT_TRUE(trust.verify_lsc(cert->get(), now_utc()));
    auto facts = describe_certificate(cert->get());
    EXPECT_TRUE(facts);
    if (facts) {
        EXPECT_EQ(facts->common_name, device);
    }
    return std::move(*cert);
}

// =============================================================================
// Install with the null string (§6.2, §7.1)

TEST_F(CapfSession, InstallNullStringRsa) {
    const Operation op = schedule(OperationKind::Install, AuthMode::Null, "rsa:2048");
    const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get()), store_ok()});

    ASSERT_EQ(r.commands(), kFullInstall);
    // AUTH_REQUEST exactly as §9 (with our session id): VERSION=3, AUTH_TYPE=0.
    EXPECT_EQ(wire(r.frames[0]), (Bytes{0x55, 0x01, 0x0B, 0xAD, 0xF0, 0x0D, 0x00, 0x08, 0x07, 0x00, 0x01, 0x03, 0x08,
                                        0x00, 0x01, 0x00}));
    // KEY_GENERATE_REQUEST RSA-2048 exactly as §9.
    EXPECT_EQ(wire(r.frames[1]), (Bytes{0x55, 0x03, 0x0B, 0xAD, 0xF0, 0x0D, 0x00, 0x09, 0x0a, 0x00, 0x02, 0x08, 0x00,
                                        0x11, 0x00, 0x01, 0x00}));
    X509Ptr lsc = check_delivered_lsc(r, pki().phone_rsa.get(), kDevice, trust);
    ASSERT_NE(lsc, nullptr);
    EXPECT_EQ(r.end_reason(), reason::kUpdateCertificate);

    EXPECT_EQ(r.outcome.result, "succeeded");
    EXPECT_EQ(r.outcome.cause_class, SessionCause::None);
    EXPECT_EQ(r.outcome.end_reason, 1);
    EXPECT_EQ(r.outcome.device, kDevice);
    EXPECT_EQ(r.outcome.operation, "install");
    EXPECT_EQ(r.outcome.operation_id, op.id);
    EXPECT_FALSE(r.outcome.serial.empty());

    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    const auto all = certs();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].kind, CertificateKind::Lsc);
    EXPECT_EQ(all[0].status, CertificateStatus::Active);
    EXPECT_EQ(all[0].facts.sha256, fingerprint(lsc.get())) << "the stored LSC is the one delivered";
    EXPECT_EQ(all[0].operation_id, op.id);
    auto a = active();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->facts.serial_hex, r.outcome.serial);
    auto dev_op = store.open_operation(device().id);
    ASSERT_TRUE(dev_op);
    EXPECT_FALSE(dev_op->has_value()) << "nothing left pending";
}

TEST_F(CapfSession, InstallNullStringEcP256) {
    const Operation op = schedule(OperationKind::Install, AuthMode::Null, "ec:p256");
    const SessionRun r = run({auth_response(), keygen_response(pki().phone_ec.get()), store_ok()});
    ASSERT_EQ(r.commands(), kFullInstall);
    // §9: KEY_TYPE=1, CURVE=0, no KEY_SIZE.
    EXPECT_EQ(wire(r.frames[1]),
              (Bytes{0x55, 0x03, 0x0B, 0xAD, 0xF0, 0x0D, 0x00, 0x08, 0x11, 0x00, 0x01, 0x01, 0x12, 0x00, 0x01, 0x00}));
    X509Ptr lsc = check_delivered_lsc(r, pki().phone_ec.get(), kDevice, trust);
    ASSERT_NE(lsc, nullptr);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    const auto all = certs();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].status, CertificateStatus::Active);
    EXPECT_EQ(all[0].facts.key_type, "ec");
    EXPECT_EQ(all[0].facts.sha256, fingerprint(lsc.get()));
}

TEST_F(CapfSession, InstallEcP384SendsCurveCode1) {
    const Operation op = schedule(OperationKind::Install, AuthMode::Null, "ec:p384");
    const SessionRun r = run({auth_response(), keygen_response(pki().phone_ec_384.get()), store_ok()});
    ASSERT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(**r.frames[1].u8(Tag::KeyType), key_type::kEc);
    EXPECT_EQ(**r.frames[1].u8(Tag::Curve), 1);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    EXPECT_TRUE(active());
}

TEST_F(CapfSession, InstallAcceptsAnyNumberOfRequestInProgress) {
    const Operation op = schedule(OperationKind::Install);
    std::vector<Message> phone = {auth_response()};
    for (int i = 0; i < 12; ++i) phone.push_back(rip());  // the reference accepted only one
    phone.push_back(keygen_response(pki().phone_rsa.get()));
    phone.push_back(store_ok());
    const SessionRun r = run(phone);
    EXPECT_EQ(r.commands(), kFullInstall) << "keep-alives need no reply";
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    EXPECT_TRUE(active());
}

TEST_F(CapfSession, AFloodOfRequestInProgressEndsTheSession) {
    // Each keep-alive already buffered means no read ever waits: a flood would hold
    // the event loop. A burst of 16, then one per second, is what is tolerated.
    const Operation op = schedule(OperationKind::Install);
    std::vector<Message> phone = {auth_response()};
    for (int i = 0; i < 200; ++i) phone.push_back(rip());
    phone.push_back(keygen_response(pki().phone_rsa.get()));
    phone.push_back(store_ok());
    const SessionRun r = run(phone);
    EXPECT_EQ(r.outcome.result, "failed");
    EXPECT_NE(r.outcome.cause.find("too many REQUEST_IN_PROGRESS (17 in 0 s)"), std::string::npos) << r.outcome.cause;
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.find(Command::StoreCertificateRequest), nullptr) << "no LSC for a session ended this way";
    EXPECT_FALSE(active());
    EXPECT_NE(state_of(op), OperationState::Succeeded);
}

TEST_F(CapfSession, InstallForJabberStyleClientWithoutPasswordAndVersion2) {
    // §7.1: Jabber sends no PASSWORD at all; §4.2/§6.1: it reports VERSION 2.
    const Operation op = schedule(OperationKind::Install);
    const SessionRun r = run({auth_response(kDevice, std::nullopt, 2), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

TEST_F(CapfSession, Version1IsAccepted) {
    const Operation op = schedule(OperationKind::Install);
    const SessionRun r = run({auth_response(kDevice, "", 1), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

// =============================================================================
// Install with an authentication string (§7.2)

TEST_F(CapfSession, InstallWithRightAuthenticationString) {
    const Operation op = schedule(OperationKind::Install, AuthMode::String, "rsa:2048", "123456");
    const SessionRun r = run({auth_response(kDevice, "123456"), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(r.outcome.auth_mode, "string");
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    EXPECT_TRUE(active());
}

TEST_F(CapfSession, WrongAuthenticationStringIsRejected) {
    const Operation op = schedule(OperationKind::Install, AuthMode::String, "rsa:2048", "123456");
    const SessionRun r = run({auth_response(kDevice, "654321"), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), reason::kInvalidElement);
    EXPECT_EQ(r.outcome.result, "rejected");
    EXPECT_EQ(r.outcome.cause_class, SessionCause::WrongString);
    EXPECT_EQ(r.outcome.cause.find("654321"), std::string::npos) << "the log cause never carries a secret";
    EXPECT_EQ(r.outcome.cause.find("123456"), std::string::npos);
    expect_untouched(op);
    EXPECT_EQ(device().auth_failures, 1);
}

TEST_F(CapfSession, PrefixOrLongerAuthenticationStringIsRejected) {
    settings.lockout_failures = 100;  // each case must fail on its own merits, not on a lockout
    const Operation op = schedule(OperationKind::Install, AuthMode::String, "rsa:2048", "123456");
    for (const std::string pw : {"12345", "1234567", "123456 "}) {
        SCOPED_TRACE(pw);
        const SessionRun r = run({auth_response(kDevice, pw), keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::WrongString);
    }
    expect_untouched(op);
}

TEST_F(CapfSession, MissingOrEmptyAuthenticationStringIsRejected) {
    const Operation op = schedule(OperationKind::Install, AuthMode::String, "rsa:2048", "123456");
    {
        const SessionRun r = run({auth_response(kDevice, std::nullopt), keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::WrongString);
    }
    {
        const SessionRun r = run({auth_response(kDevice, ""), keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::WrongString);
    }
    expect_untouched(op);
}

TEST_F(CapfSession, AuthenticationStringWithoutNulIsAccepted) {
    const Operation op = schedule(OperationKind::Install, AuthMode::String, "rsa:2048", "123456");
    Message auth(Command::AuthResponse, kSid);
    auth.add_u8(Tag::Reason, 1).add_u8(Tag::Version, 3).add_bytes(Tag::Password, as_bytes("123456")).add_string(
        Tag::DeviceName, kDevice);
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

TEST_F(CapfSession, LockoutAfterRepeatedWrongStringsRejectsEvenTheRightOne) {
    const Operation op = schedule(OperationKind::Install, AuthMode::String, "rsa:2048", "123456");
    for (int i = 0; i < settings.lockout_failures; ++i) {
        SCOPED_TRACE(i);
        const SessionRun r = run({auth_response(kDevice, "000000")});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::WrongString);
    }
    const Device locked = device();
    EXPECT_EQ(locked.auth_failures, settings.lockout_failures);
    ASSERT_TRUE(locked.locked_until.has_value());
    EXPECT_GT(*locked.locked_until, now_utc());

    const SessionRun r = run({auth_response(kDevice, "123456"), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd) << "a locked device gets no key request";
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.result, "rejected");
    EXPECT_EQ(r.outcome.cause_class, SessionCause::LockedOut);
    expect_untouched(op);
}

TEST_F(CapfSession, FewerWrongStringsThanTheLimitDoNotLockAndSuccessClearsTheCount) {
    const Operation op = schedule(OperationKind::Install, AuthMode::String, "rsa:2048", "123456");
    for (int i = 0; i < settings.lockout_failures - 1; ++i) EXPECT_EQ(run({auth_response(kDevice, "000000")}).end_reason(), 7);
    EXPECT_EQ(device().auth_failures, settings.lockout_failures - 1);
    EXPECT_FALSE(device().locked_until.has_value());
    EXPECT_EQ(last.cause_class, SessionCause::WrongString);

    const SessionRun r = run({auth_response(kDevice, "123456"), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    EXPECT_EQ(device().auth_failures, 0);
}

// =============================================================================
// Install authenticated by an existing certificate (§7.3)

TEST_F(CapfSession, ReKeyAuthenticatedByLsc) {
    X509Ptr old_lsc = give_active_lsc(kDevice, pki().phone_rsa.get());
    const Operation op = schedule(OperationKind::Install, AuthMode::Lsc);
    Message auth = auth_response();
    add_proof(auth, kDevice, old_lsc.get(), pki().phone_rsa.get());
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa_new.get()), store_ok()});

    ASSERT_EQ(r.commands(), kFullInstall);
    X509Ptr new_lsc = check_delivered_lsc(r, pki().phone_rsa_new.get(), kDevice, trust);
    ASSERT_NE(new_lsc, nullptr);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(r.outcome.authenticated_by, "LSC");
    EXPECT_EQ(state_of(op), OperationState::Succeeded);

    auto old_rec = store.find_certificate_by_fingerprint(fingerprint(old_lsc.get()));
    ASSERT_TRUE(old_rec);
    ASSERT_TRUE(old_rec->has_value());
    EXPECT_EQ((*old_rec)->status, CertificateStatus::Superseded);
    auto a = active();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->facts.sha256, fingerprint(new_lsc.get()));
    int active_count = 0;
    for (const auto& c : certs()) active_count += c.status == CertificateStatus::Active ? 1 : 0;
    EXPECT_EQ(active_count, 1);
    EXPECT_EQ(certs().size(), 2u);
}

TEST_F(CapfSession, InstallAuthenticatedByMic) {
    const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
    Message auth = auth_response();
    add_proof(auth, kDevice, pki().mic.get(), pki().mic_key.get());
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    ASSERT_EQ(r.commands(), kFullInstall);
    EXPECT_NE(check_delivered_lsc(r, pki().phone_rsa.get(), kDevice, trust), nullptr);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(r.outcome.authenticated_by, "MIC");
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    EXPECT_TRUE(active());
}

TEST_F(CapfSession, EitherCertificateModeAcceptsAMic) {
    const Operation op = schedule(OperationKind::Install, AuthMode::LscOrMic);
    Message auth = auth_response();
    add_proof(auth, kDevice, pki().mic.get(), pki().mic_key.get());
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

TEST_F(CapfSession, RevokedLscIsRejected) {
    X509Ptr lsc = give_active_lsc(kDevice, pki().phone_rsa.get());
    ASSERT_TRUE(store.database().exec("UPDATE certificates SET status='revoked' WHERE fingerprint='" +
                                      fingerprint(lsc.get()) + "'"));
    const Operation op = schedule(OperationKind::Install, AuthMode::Lsc);
    Message auth = auth_response();
    add_proof(auth, kDevice, lsc.get(), pki().phone_rsa.get());
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa_new.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused);
    expect_untouched(op, 1);
    EXPECT_EQ(certs()[0].status, CertificateStatus::Revoked);
}

TEST_F(CapfSession, SupersededLscIsRejected) {
    X509Ptr first = give_active_lsc(kDevice, pki().phone_rsa.get());
    X509Ptr second = give_active_lsc(kDevice, pki().phone_rsa_new.get());
    const Operation op = schedule(OperationKind::Install, AuthMode::Lsc);
    Message auth = auth_response();
    add_proof(auth, kDevice, first.get(), pki().phone_rsa.get());
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused);
    expect_untouched(op, 2);
    EXPECT_EQ(active()->facts.sha256, fingerprint(second.get()));
}

TEST_F(CapfSession, AnotherDevicesLscIsRejected) {
    ASSERT_TRUE(store.add_device(kOtherDevice, "Cisco 8841", "", "test"));
    X509Ptr theirs = give_active_lsc(kOtherDevice, pki().other_phone.get());
    const Operation op = schedule(OperationKind::Install, AuthMode::Lsc);
    Message auth = auth_response();
    add_proof(auth, kDevice, theirs.get(), pki().other_phone.get());  // valid signature, wrong owner
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused);
    expect_untouched(op);
    EXPECT_EQ(certs(kOtherDevice).size(), 1u);
    EXPECT_EQ(certs(kOtherDevice)[0].status, CertificateStatus::Active);

    // The registry owner decides, not only the CN: an LSC naming this device but
    // recorded for another one (e.g. after a rename) is refused as well.
    auto named_like_us = authority.issue_lsc(kDevice, pki().other_phone.get(), 30);
    ASSERT_TRUE(named_like_us);
    const Operation theirs_op = schedule(OperationKind::Install, AuthMode::Null, "rsa:2048", "", std::nullopt, kOtherDevice);
    ASSERT_TRUE(store.commit_issued_lsc(theirs_op, named_like_us->get()));
    Message auth2 = auth_response();
    add_proof(auth2, kDevice, named_like_us->get(), pki().other_phone.get());
    const SessionRun r2 = run({auth2, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r2.commands(), kAuthThenEnd);
    EXPECT_EQ(r2.end_reason(), 7);
    EXPECT_EQ(r2.outcome.cause_class, SessionCause::CertificateRefused);
    expect_untouched(op);
}

TEST_F(CapfSession, UnregisteredOrForeignLscIsRejected) {
    settings.lockout_failures = 100;  // each case must fail on its own merits, not on a lockout
    const Operation op = schedule(OperationKind::Install, AuthMode::Lsc);
    {
        // Chain-valid but never recorded as issued.
        auto stray = authority.issue_lsc(kDevice, pki().phone_rsa.get(), 30);
        ASSERT_TRUE(stray);
        Message auth = auth_response();
        add_proof(auth, kDevice, stray->get(), pki().phone_rsa.get());
        EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
        EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
    }
    {
        // Same issuer name, different CA key.
        X509Ptr forged = test::make_leaf(pki().rogue, pki().phone_rsa.get(), "CN=" + kDevice);
        Message auth = auth_response();
        add_proof(auth, kDevice, forged.get(), pki().phone_rsa.get());
        EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
        EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
    }
    expect_untouched(op);
}

TEST_F(CapfSession, LscModeRejectsAMic) {
    const Operation op = schedule(OperationKind::Install, AuthMode::Lsc);
    Message auth = auth_response();
    add_proof(auth, kDevice, pki().mic.get(), pki().mic_key.get());
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused);
    expect_untouched(op);
}

TEST_F(CapfSession, MicModeRejectsAnLsc) {
    X509Ptr lsc = give_active_lsc(kDevice, pki().phone_rsa.get());
    const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
    Message auth = auth_response();
    add_proof(auth, kDevice, lsc.get(), pki().phone_rsa.get());
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa_new.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused);
    expect_untouched(op, 1);
    EXPECT_EQ(active()->facts.sha256, fingerprint(lsc.get()));
}

TEST_F(CapfSession, MicOfAnotherDeviceIsRejected) {
    const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
    Message auth = auth_response();
    add_proof(auth, kDevice, pki().foreign_mic.get(), pki().mic_key.get());
    EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
    EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
    expect_untouched(op);
}

TEST_F(CapfSession, MicWhoseCnMerelyContainsTheDeviceNameIsRejected) {
    // A device registered under a name that the MIC's CN "CP-8841-SEP001122334455"
    // merely contains must not authenticate with that MIC: the name must be the
    // CN's last '-'-separated part. Each name is a valid device name (class Other),
    // so the session gets as far as the MIC check (an invalid name would end it
    // earlier, as a protocol error, and prove nothing).
    for (const std::string name : {"CP-8841", "EP001122334455", "8841-SEP001122"}) {
        SCOPED_TRACE(name);
        ASSERT_TRUE(normalize_device_name(name));
        ASSERT_TRUE(store.add_device(name, "", "", "test"));
        OperationRequest r;
        r.auth_mode = AuthMode::Mic;
        ASSERT_TRUE(store.schedule_operation(name, r, "test"));
        Message auth = auth_response(name);
        add_proof(auth, name, pki().mic.get(), pki().mic_key.get());
        EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
        EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
        auto lsc = store.active_lsc(name);
        ASSERT_TRUE(lsc);
        EXPECT_FALSE(lsc->has_value());
    }
}

TEST_F(CapfSession, Sha1OnlyProofIsRejectedByDefault) {
    const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
    Message auth = auth_response();
    add_proof(auth, kDevice, pki().mic.get(), pki().mic_key.get(), signatures(true, false));
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused);
    expect_untouched(op);
}

TEST_F(CapfSession, Sha1OnlyProofIsAcceptedWhenPolicyAllows) {
    settings.allow_sha1_only_proof = true;
    const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
    Message auth = auth_response();
    add_proof(auth, kDevice, pki().mic.get(), pki().mic_key.get(), signatures(true, false));
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);

    // Policy lets SHA-1 stand alone; it does not let a bad SHA-1 signature through.
    const Operation again = schedule(OperationKind::Install, AuthMode::Mic);
    Message bad = auth_response();
    add_proof(bad, kDevice, pki().mic.get(), pki().mic_key.get(), tweak([](ProofOptions& o) { o.sha2 = false; o.corrupt_sha1 = true; }));
    EXPECT_EQ(run({bad, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
    EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
    EXPECT_EQ(state_of(again), OperationState::Pending);
}

TEST_F(CapfSession, Sha512OnlyProofIsAccepted) {
    const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
    Message auth = auth_response();
    add_proof(auth, kDevice, pki().mic.get(), pki().mic_key.get(), signatures(false, true));
    EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

TEST_F(CapfSession, BadSignaturesAreRejected) {
    settings.lockout_failures = 100;  // each case must fail on its own merits, not on a lockout
    const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
    const std::vector<std::pair<std::string, ProofOptions>> cases = {
        {"corrupt SHA-512", tweak([](ProofOptions& o) { o.corrupt_sha2 = true; })},
        {"corrupt SHA-1 next to a good SHA-512", tweak([](ProofOptions& o) { o.corrupt_sha1 = true; })},
        {"SHA2 block not marked SHA-512", tweak([](ProofOptions& o) { o.sha2_hash_code = hash_code::kSha256; })},
        {"signed for another device name", tweak([](ProofOptions& o) { o.signed_name = kOtherDevice; })},
    };
    for (const auto& [what, opts] : cases) {
        SCOPED_TRACE(what);
        Message auth = auth_response();
        add_proof(auth, kDevice, pki().mic.get(), pki().mic_key.get(), opts);
        const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused);
    }
    {
        SCOPED_TRACE("signed with a key that is not the MIC's");
        Message auth = auth_response();
        add_proof(auth, kDevice, pki().mic.get(), pki().phone_rsa.get());
        EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
        EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
    }
    expect_untouched(op);
}

TEST_F(CapfSession, MissingCertificateProofIsRejected) {
    settings.lockout_failures = 100;  // each case must fail on its own merits, not on a lockout
    const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
    {
        SCOPED_TRACE("no CERTIFICATE at all");
        const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused);
    }
    {
        SCOPED_TRACE("CERTIFICATE without any signature");
        Message auth = auth_response();
        add_proof(auth, kDevice, pki().mic.get(), pki().mic_key.get(), signatures(false, false));
        EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
        EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
    }
    {
        SCOPED_TRACE("signatures without the CERTIFICATE");
        Message full = auth_response();
        add_proof(full, kDevice, pki().mic.get(), pki().mic_key.get());
        Message auth(Command::AuthResponse, kSid);
        for (const auto& e : full.elements())
            if (e.tag != static_cast<std::uint8_t>(Tag::Certificate)) auth.add_raw(e.tag, e.value);
        EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
        EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
    }
    {
        SCOPED_TRACE("CERTIFICATE wrapper with a wrong inner length");
        Message full = auth_response();
        add_proof(full, kDevice, pki().mic.get(), pki().mic_key.get());
        Message auth(Command::AuthResponse, kSid);
        for (const auto& e : full.elements()) {
            Bytes v = e.value;
            if (e.tag == static_cast<std::uint8_t>(Tag::Certificate)) v[2] ^= 0x01;
            auth.add_raw(e.tag, v);
        }
        EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
        EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
    }
    expect_untouched(op);
    EXPECT_EQ(device().auth_failures, 4);
}

TEST_F(CapfSession, MicFromAnUntrustedRootIsRejected) {
    settings.lockout_failures = 100;
    const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
    X509Ptr fake = test::make_leaf(pki().rogue, pki().mic_key.get(), "CN=CP-8841-SEP001122334455,O=Cisco Systems Inc.");
    Message auth = auth_response();
    add_proof(auth, kDevice, fake.get(), pki().mic_key.get());
    EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
    EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
    expect_untouched(op);
}

TEST_F(CapfSession, ExpiredMicIsRejectedUnlessPolicyAcceptsIt) {
    X509Ptr expired = test::make_leaf(pki().mic_root, pki().mic_key.get(),
                                      "CN=CP-8841-SEP001122334455,O=Cisco Systems Inc.", -400, -10);
    const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
    Message auth = auth_response();
    add_proof(auth, kDevice, expired.get(), pki().mic_key.get());
    EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
    EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
    expect_untouched(op);

    settings.accept_expired_mic = true;
    EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

// PRODUCTION BUG (module/capf/session.cpp, verify_certificate_proof): §7.3 defines the
// signed message as M = DEVICE_NAME *bytes* || 00 || DER, i.e. the name exactly as the
// phone sent it. The server rebuilds M from the normalized registry name (lower-case
// SEP hex is upper-cased), so a phone that names itself "SEP001122aabbcc" and signs what
// it sent is rejected. This test asserts the spec behaviour.
TEST_F(CapfSession, ProofCoversTheDeviceNameBytesAsSent) {
    const std::string lower = "sep001122334455";  // normalizes to kDevice
    const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
    Message auth = auth_response(lower);
    add_proof(auth, lower, pki().mic.get(), pki().mic_key.get());
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.outcome.device, kDevice) << "the registry lookup is case-normalized";
    EXPECT_EQ(r.end_reason(), 1) << r.outcome.cause;
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

// §7.4 SUDI data: M = session id (u32 little-endian) || DER(SUDI certificate).
Bytes sudi_value(const X509* cert, EVP_PKEY* key, std::uint32_t sid, bool little_endian = true,
                 std::uint8_t sha2_code = hash_code::kSha512) {
    const Bytes der = certificate_der(cert);
    Bytes m = little_endian ? Bytes{static_cast<std::uint8_t>(sid), static_cast<std::uint8_t>(sid >> 8),
                                    static_cast<std::uint8_t>(sid >> 16), static_cast<std::uint8_t>(sid >> 24)}
                            : Bytes{static_cast<std::uint8_t>(sid >> 24), static_cast<std::uint8_t>(sid >> 16),
                                    static_cast<std::uint8_t>(sid >> 8), static_cast<std::uint8_t>(sid)};
    m.insert(m.end(), der.begin(), der.end());
    return encode_sudi({der, {hash_code::kSha1, sign(key, ProofHash::Sha1, m)}, {sha2_code, sign(key, ProofHash::Sha512, m)}});
}

TEST_F(CapfSession, ValidSudiIsAccepted) {
    const Operation op = schedule(OperationKind::Install);
    Message auth = auth_response();
    auth.add_bytes(Tag::SudiData, sudi_value(pki().mic.get(), pki().mic_key.get(), kSid));
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(r.end_reason(), 1) << r.outcome.cause;
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

TEST_F(CapfSession, BadSudiIsRejected) {
    settings.lockout_failures = 100;
    const Operation op = schedule(OperationKind::Install);
    X509Ptr untrusted = test::make_leaf(pki().rogue, pki().mic_key.get(), "CN=SUDI-untrusted");
    Bytes truncated = sudi_value(pki().mic.get(), pki().mic_key.get(), kSid);
    truncated.pop_back();
    const std::vector<std::pair<std::string, Bytes>> cases = {
        {"big-endian session id", sudi_value(pki().mic.get(), pki().mic_key.get(), kSid, false)},
        {"another session's signature (replay)", sudi_value(pki().mic.get(), pki().mic_key.get(), kSid + 1)},
        {"SHA-2 block not SHA-512", sudi_value(pki().mic.get(), pki().mic_key.get(), kSid, true, hash_code::kSha256)},
        {"untrusted SUDI certificate", sudi_value(untrusted.get(), pki().mic_key.get(), kSid)},
        {"truncated block", truncated},
    };
    for (const auto& [what, value] : cases) {
        SCOPED_TRACE(what);
        Message auth = auth_response();
        auth.add_bytes(Tag::SudiData, value);
        const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused);
    }
    expect_untouched(op);
}

TEST_F(CapfSession, SudiPolicies) {
    const Operation op = schedule(OperationKind::Install);
    {
        SCOPED_TRACE("Require without SUDI_DATA");
        settings.sudi = SudiPolicy::Require;
        EXPECT_EQ(run({auth_response(), keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 7);
        EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);
        expect_untouched(op);
    }
    {
        SCOPED_TRACE("VerifyIfPresent with a non-RSA SUDI key: skipped");
        settings.sudi = SudiPolicy::VerifyIfPresent;
        X509Ptr ec_sudi = test::make_leaf(pki().mic_root, pki().other_phone.get(), "CN=SUDI-EC");
        Message auth = auth_response();
        auth.add_bytes(Tag::SudiData, encode_sudi({certificate_der(ec_sudi.get()), {1, Bytes{1}}, {3, Bytes{2}}}));
        EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 1);
        EXPECT_EQ(state_of(op), OperationState::Succeeded);
    }
    {
        SCOPED_TRACE("Ignore with garbage SUDI_DATA");
        settings.sudi = SudiPolicy::Ignore;
        const Operation again = schedule(OperationKind::Install);
        Message auth = auth_response();
        auth.add_bytes(Tag::SudiData, Bytes{0xFF, 0xFF});
        EXPECT_EQ(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 1);
        EXPECT_EQ(state_of(again), OperationState::Succeeded);
    }
}

// =============================================================================
// Whose fault is it (issue 6 item 1): only a phone that fails to prove who it is
// is "rejected" and counted toward the lockout. Data we cannot check (no MIC
// roots) is ignored under verify-if-present; a fault on our side (configuration,
// registry, OpenSSL) ends the session as "failed" with a server-error cause and
// gives the attempt reserved for a guessable mode back.

TrustSet trust_without_mic_roots() {
    auto t = TrustSet::build({pki().capf.cert.get()}, {});
    if (!t) throw std::runtime_error(t.message());
    return std::move(*t);
}

// Runs `sql` on the test registry through the sqlite3 CLI, as a second connection would.
void registry_sql(const test::TempDir& dir, const std::string& sql) {
    const auto r = test::run_command("sqlite3 '" + (dir / "lscgate.db").string() + "' \"" + sql + "\"");
    if (r.status != 0) throw std::runtime_error("sqlite3 failed: " + r.output);
}

bool is_server_error(const SessionOutcome& o, const char* kind) {
    return o.result == "failed" && o.cause_class == SessionCause::Server &&
           o.cause.rfind(std::string("server error (") + kind + ")", 0) == 0;
}

TEST_F(CapfSession, SudiWithoutMicRootsIsIgnoredUnderVerifyIfPresent) {
    trust = trust_without_mic_roots();
    settings.sudi = SudiPolicy::VerifyIfPresent;
    // An RSA SUDI chained to no configured root, correctly signed over this session.
    X509Ptr sudi_cert = test::make_leaf(pki().rogue, pki().mic_key.get(), "CN=SUDI-unverifiable");
    const Bytes good_sudi = sudi_value(sudi_cert.get(), pki().mic_key.get(), kSid);
    const Bytes garbage_sudi = {0xFF, 0xFF};
    auto check = [&](const SessionRun& r, const Operation& op) {
        EXPECT_EQ(r.commands(), kFullInstall);
        EXPECT_EQ(r.end_reason(), 1) << r.outcome.cause;
        EXPECT_EQ(r.outcome.result, "succeeded");
        EXPECT_NE(r.outcome.note.find("SUDI_DATA ignored: no MIC roots configured"), std::string::npos) << r.outcome.note;
        EXPECT_EQ(state_of(op), OperationState::Succeeded);
        EXPECT_EQ(device().auth_failures, 0);
        EXPECT_FALSE(device().locked_until.has_value());
    };
    for (const Bytes* sudi : {&good_sudi, &garbage_sudi}) {
        SCOPED_TRACE(sudi == &good_sudi ? "well-formed SUDI" : "undecodable SUDI");
        {
            SCOPED_TRACE("null string");
            const Operation op = schedule(OperationKind::Install, AuthMode::Null);
            Message auth = auth_response();
            auth.add_bytes(Tag::SudiData, *sudi);
            check(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}), op);
        }
        {
            SCOPED_TRACE("authentication string");
            const Operation op = schedule(OperationKind::Install, AuthMode::String, "rsa:2048", "123456");
            Message auth = auth_response(kDevice, "123456");
            auth.add_bytes(Tag::SudiData, *sudi);
            check(run({auth, keygen_response(pki().phone_rsa.get()), store_ok()}), op);
        }
    }
    {
        SCOPED_TRACE("re-key proven by the current LSC");
        X509Ptr lsc = give_active_lsc(kDevice, pki().phone_rsa.get());
        const Operation op = schedule(OperationKind::Install, AuthMode::Lsc);
        Message auth = auth_response();
        add_proof(auth, kDevice, lsc.get(), pki().phone_rsa.get());
        auth.add_bytes(Tag::SudiData, good_sudi);
        check(run({auth, keygen_response(pki().phone_rsa_new.get()), store_ok()}), op);
    }
}

TEST_F(CapfSession, CheckableWrongSudiIsStillRefusedAndCounted) {
    settings.sudi = SudiPolicy::VerifyIfPresent;  // MIC roots configured: the SUDI can be checked
    const Operation op = schedule(OperationKind::Install, AuthMode::String, "rsa:2048", "123456");
    Message auth = auth_response(kDevice, "123456");
    auth.add_bytes(Tag::SudiData, sudi_value(pki().mic.get(), pki().mic_key.get(), kSid + 1));  // replayed
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.result, "rejected");
    EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused); // the string was right: the SUDI is refused, not the string
    EXPECT_EQ(device().auth_failures, 1);
    expect_untouched(op);
}

TEST_F(CapfSession, SudiRequireWithoutMicRootsIsAConfigErrorNotThePhonesFault) {
    trust = trust_without_mic_roots();
    settings.sudi = SudiPolicy::Require;
    const Operation op = schedule(OperationKind::Install, AuthMode::String, "rsa:2048", "123456");
    X509Ptr sudi_cert = test::make_leaf(pki().rogue, pki().mic_key.get(), "CN=SUDI-unverifiable");
    for (const char* string : {"123456", "999999"}) {
        SCOPED_TRACE(string);
        Message auth = auth_response(kDevice, string);
        auth.add_bytes(Tag::SudiData, sudi_value(sudi_cert.get(), pki().mic_key.get(), kSid));
        const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_TRUE(is_server_error(r.outcome, "config")) << r.outcome.result << ": " << r.outcome.cause;
        EXPECT_EQ(device().auth_failures, 0) << "a configuration fault is not an authentication failure";
    }
    expect_untouched(op);
}

TEST_F(CapfSession, MicModeWithoutMicRootsIsAConfigErrorButAnLscModeStillRefusesAMic) {
    trust = trust_without_mic_roots();
    {
        SCOPED_TRACE("mic mode: nobody could pass, the configuration is at fault");
        const Operation op = schedule(OperationKind::Install, AuthMode::Mic);
        Message auth = auth_response();
        add_proof(auth, kDevice, pki().mic.get(), pki().mic_key.get());
        const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_TRUE(is_server_error(r.outcome, "config")) << r.outcome.result << ": " << r.outcome.cause;
        EXPECT_EQ(device().auth_failures, 0);
        expect_untouched(op);
    }
    {
        SCOPED_TRACE("lsc mode: a certificate that is not our LSC is the phone's failure");
        schedule(OperationKind::Install, AuthMode::Lsc);
        Message auth = auth_response();
        add_proof(auth, kDevice, pki().mic.get(), pki().mic_key.get());
        const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.result, "rejected") << r.outcome.cause;
        EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused);
        EXPECT_EQ(device().auth_failures, 1);
    }
}

TEST_F(CapfSession, RegistryReadErrorDuringAuthenticationGivesTheAttemptBack) {
    X509Ptr lsc = give_active_lsc(kDevice, pki().phone_rsa.get());
    const Operation op = schedule(OperationKind::Install, AuthMode::Lsc);
    // Two real failures: the next counted attempt reaches the limit (3) and locks.
    for (int i = 0; i < settings.lockout_failures - 1; ++i)
        EXPECT_EQ(run({auth_response(), keygen_response(pki().phone_rsa.get())}).outcome.result, "rejected");
    ASSERT_EQ(device().auth_failures, settings.lockout_failures - 1);
    EXPECT_EQ(last.cause_class, SessionCause::CertificateRefused);

    registry_sql(dir, "ALTER TABLE certificates RENAME TO certificates_away;");
    Message auth = auth_response();
    add_proof(auth, kDevice, lsc.get(), pki().phone_rsa.get());
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa_new.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.result, "failed") << r.outcome.cause;
    EXPECT_EQ(r.outcome.cause_class, SessionCause::Server);
    EXPECT_EQ(r.outcome.cause.rfind("server error (", 0), 0u) << r.outcome.cause;
    EXPECT_EQ(device().auth_failures, settings.lockout_failures - 1) << "the reserved attempt was given back";
    EXPECT_FALSE(device().locked_until.has_value()) << "and the lock it reached lifted";

    registry_sql(dir, "ALTER TABLE certificates_away RENAME TO certificates;");
    const SessionRun ok = run({auth, keygen_response(pki().phone_rsa_new.get()), store_ok()});
    EXPECT_EQ(ok.end_reason(), 1) << ok.outcome.cause;
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    EXPECT_EQ(device().auth_failures, 0);
}

TEST_F(CapfSession, MalformedStoredAuthenticationStringIsAServerErrorNotAWrongGuess) {
    const Operation op = schedule(OperationKind::Install, AuthMode::String, "rsa:2048", "123456");
    registry_sql(dir, "UPDATE operations SET auth_secret = 'not-a-hash' WHERE id = " + std::to_string(op.id) + ";");
    for (int i = 0; i < settings.lockout_failures + 1; ++i) {
        const SessionRun r = run({auth_response(kDevice, "123456"), keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_TRUE(is_server_error(r.outcome, "config")) << r.outcome.result << ": " << r.outcome.cause;
    }
    EXPECT_EQ(device().auth_failures, 0);
    EXPECT_FALSE(device().locked_until.has_value()) << "a broken registry row never locks a phone out";
    expect_untouched(op);
}

// =============================================================================
// Fetch (§6.3) and delete (§6.4)

TEST_F(CapfSession, FetchRecordsTheMicThePhoneSends) {
    const Operation op = schedule(OperationKind::Fetch);
    Message resp = reason_message(Command::FetchCertificateResponse, reason::kUpdateCertificate);
    resp.add_bytes(Tag::Certificate, wrap_certificate(certificate_der(pki().mic.get()), cert_type::kLsc));
    const SessionRun r = run({auth_response(), resp});

    ASSERT_EQ(r.commands(), (std::vector<int>{1, 11, 15}));
    EXPECT_EQ(wire(r.frames[1]), (Bytes{0x55, 0x0b, 0x0B, 0xAD, 0xF0, 0x0D, 0x00, 0x00}));
    EXPECT_EQ(r.end_reason(), reason::kNoAction) << "§6.3: fetch ends with END_SESSION(0)";
    EXPECT_EQ(r.outcome.operation, "fetch");
    EXPECT_EQ(r.outcome.cause_class, SessionCause::None);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    const auto all = certs();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].kind, CertificateKind::Mic);
    EXPECT_EQ(all[0].status, CertificateStatus::Fetched);
    EXPECT_EQ(all[0].facts.sha256, fingerprint(pki().mic.get()));
    EXPECT_FALSE(active()) << "a fetched certificate is not an active LSC";
}

TEST_F(CapfSession, FetchOfOurOwnLscKeepsItsRow) {
    X509Ptr lsc = give_active_lsc(kDevice, pki().phone_rsa.get());
    const Operation op = schedule(OperationKind::Fetch);
    Message resp = reason_message(Command::FetchCertificateResponse, reason::kUpdateCertificate);
    resp.add_bytes(Tag::Certificate, wrap_certificate(certificate_der(lsc.get()), cert_type::kLsc));
    const SessionRun r = run({auth_response(), resp});
    EXPECT_EQ(r.end_reason(), 0);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    const auto all = certs();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].status, CertificateStatus::Active);
}

TEST_F(CapfSession, FetchWithReason7CommitsNothingAndKeepsTheOperationPending) {
    // §10: FETCH response REASON != 1 → END_SESSION(7), do not commit, keep the operation pending.
    const Operation op = schedule(OperationKind::Fetch);
    const SessionRun r = run({auth_response(), reason_message(Command::FetchCertificateResponse, reason::kInvalidElement)});
    EXPECT_EQ(r.commands(), (std::vector<int>{1, 11, 15}));
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::PhoneRefused);
    expect_untouched(op);
}

TEST_F(CapfSession, FetchWithReason1ButNoCertificateCommitsNothing) {
    const Operation op = schedule(OperationKind::Fetch);
    const SessionRun r = run({auth_response(), reason_message(Command::FetchCertificateResponse, reason::kUpdateCertificate)});
    EXPECT_EQ(r.commands(), (std::vector<int>{1, 11, 15}));
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::PhoneRefused);
    EXPECT_NE(state_of(op), OperationState::Succeeded);
    EXPECT_TRUE(certs().empty());
}

TEST_F(CapfSession, FetchResponseWithBrokenCertificateCommitsNothing) {
    const Operation op = schedule(OperationKind::Fetch);
    Message resp = reason_message(Command::FetchCertificateResponse, reason::kUpdateCertificate);
    resp.add_bytes(Tag::Certificate, wrap_certificate(Bytes{0x30, 0x03, 0x01, 0x02, 0x03}, cert_type::kLsc));
    const SessionRun r = run({auth_response(), resp});
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::Protocol);
    expect_untouched(op);
}

TEST_F(CapfSession, DeleteRemovesTheLsc) {
    X509Ptr lsc = give_active_lsc(kDevice, pki().phone_rsa.get());
    const Operation op = schedule(OperationKind::Delete);
    const SessionRun r = run({auth_response(), reason_message(Command::DeleteCertificateResponse, reason::kUpdateCertificate)});
    ASSERT_EQ(r.commands(), (std::vector<int>{1, 13, 15}));
    EXPECT_EQ(wire(r.frames[1]), (Bytes{0x55, 0x0d, 0x0B, 0xAD, 0xF0, 0x0D, 0x00, 0x00}));
    EXPECT_EQ(r.end_reason(), reason::kUpdateCertificate);
    EXPECT_EQ(r.outcome.operation, "delete");
    EXPECT_EQ(r.outcome.cause_class, SessionCause::None);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    const auto all = certs();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].status, CertificateStatus::Removed);
    EXPECT_FALSE(active());
}

TEST_F(CapfSession, DeleteWithReasonNot1KeepsEverything) {
    X509Ptr lsc = give_active_lsc(kDevice, pki().phone_rsa.get());
    const Operation op = schedule(OperationKind::Delete);
    for (std::uint8_t reason : {std::uint8_t{7}, std::uint8_t{0}, std::uint8_t{2}}) {
        SCOPED_TRACE(static_cast<int>(reason));
        const SessionRun r = run({auth_response(), reason_message(Command::DeleteCertificateResponse, reason)});
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 13, 15}));
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::PhoneRefused);
        expect_untouched(op, 1);
        ASSERT_TRUE(active());
        EXPECT_EQ(active()->facts.sha256, fingerprint(lsc.get()));
    }
}

// =============================================================================
// No operation, unknown device, deadline, version (§6.1, §6.5)

TEST_F(CapfSession, NoPendingOperationEndsWithReason0) {
    const SessionRun r = run({auth_response()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), reason::kNoAction);
    EXPECT_EQ(r.outcome.result, "no-operation");
    EXPECT_FALSE(r.outcome.operation_id.has_value()) << "no operation, no id";
    EXPECT_EQ(r.outcome.cause_class, SessionCause::NoOperation);
    EXPECT_TRUE(certs().empty());
}

TEST_F(CapfSession, FinishedOperationIsNotRunAgain) {
    give_active_lsc(kDevice, pki().phone_rsa.get());  // its install op is succeeded
    const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), 0);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::NoOperation);
    EXPECT_EQ(certs().size(), 1u);
}

TEST_F(CapfSession, UnknownDeviceEndsWithReason9) {
    schedule(OperationKind::Install);
    const SessionRun r = run({auth_response("SEP999999999999"), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), reason::kUnknownDevice);
    EXPECT_EQ(r.outcome.result, "unknown-device");
    EXPECT_EQ(r.outcome.cause_class, SessionCause::UnknownDevice);
    auto all = store.list_certificates(std::nullopt);
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->empty());
    auto unknown = store.find_device("SEP999999999999");
    ASSERT_TRUE(unknown);
    EXPECT_FALSE(unknown->has_value()) << "no auto-enrolment by default";
}

TEST_F(CapfSession, DeadlinePassedEndsWithReason0AndTimesTheOperationOut) {
    const Operation op = schedule(OperationKind::Install, AuthMode::Null, "rsa:2048", "", now_utc() - 3600);
    const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd) << "no key generation after the deadline";
    EXPECT_EQ(r.end_reason(), reason::kNoAction);
    EXPECT_EQ(r.outcome.result, "timed-out");
    EXPECT_EQ(r.outcome.operation_id, op.id);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::Late);
    EXPECT_EQ(state_of(op), OperationState::TimedOut);
    EXPECT_TRUE(certs().empty());
}

TEST_F(CapfSession, DeadlineInTheFutureStillRuns) {
    const Operation op = schedule(OperationKind::Install, AuthMode::Null, "rsa:2048", "", now_utc() + 3600);
    EXPECT_EQ(run({auth_response(), keygen_response(pki().phone_rsa.get()), store_ok()}).end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

// Issue 8 item 6 / issue 10 item 4: an operation another CAPF session holds is
// not run twice, and the session says why as class busy.
TEST_F(CapfSession, OperationHeldByAnotherSessionIsBusy) {
    {
        SCOPED_TRACE("held by another lscgate serve on the same registry (not stale)");
        const Operation op = schedule(OperationKind::Install);
        auto other = store.claim_operation(op.id, now_utc(), operation_claim_stale_seconds(settings),
                                           "in progress in lscgate pid 1 on elsewhere, started 2026-01-01T00:00:00Z");
        ASSERT_TRUE(other) << other.message();
        ASSERT_TRUE(*other);
        const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd) << "no key request for an operation someone else runs";
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.result, "failed");
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Busy);
        EXPECT_EQ(r.outcome.operation_id, op.id);
        EXPECT_NE(r.outcome.cause.find("already in progress"), std::string::npos) << r.outcome.cause;
        EXPECT_TRUE(certs().empty());
    }
    {
        SCOPED_TRACE("held by a live session of this process");
        ASSERT_TRUE(store.add_device(kOtherDevice, "Cisco 8841", "", "test"));
        const Operation op = schedule(OperationKind::Install, AuthMode::Null, "rsa:2048", "", std::nullopt, kOtherDevice);
        auto held = OperationClaim::take(store, op.id, now_utc(), operation_claim_stale_seconds(settings));
        ASSERT_TRUE(held) << held.message();
        ASSERT_TRUE(held->has_value());
        const SessionRun r = run({auth_response(kOtherDevice), keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Busy);
        EXPECT_TRUE(certs(kOtherDevice).empty());
    }
}

TEST_F(CapfSession, Version2PhoneIsNotAskedForAnEcKey) {
    const Operation op = schedule(OperationKind::Install, AuthMode::Null, "ec:p256");
    const SessionRun r = run({auth_response(kDevice, "", 2), keygen_response(pki().phone_ec.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd) << "no EC KEY_GENERATE_REQUEST to a version 2 client";
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::KeyRefused);
    expect_untouched(op);
}

// =============================================================================
// §10, row by row

TEST_F(CapfSession, PeerClosesBeforeTheHeader) {
    const Operation op = schedule(OperationKind::Install);
    const SessionRun r = run({});
    EXPECT_EQ(r.commands(), kOnlyAuthRequest) << "no reply after AUTH_REQUEST";
    EXPECT_EQ(r.end_reason(), -1);
    EXPECT_EQ(r.outcome.end_reason, -1);
    EXPECT_EQ(r.outcome.result, "closed");
    EXPECT_EQ(r.outcome.cause_class, SessionCause::Connection);
    expect_untouched(op);
}

TEST_F(CapfSession, PeerClosesInsideTheHeader) {
    const Operation op = schedule(OperationKind::Install);
    const Bytes full = wire(auth_response());
    for (std::size_t n = 1; n < kHeaderSize; ++n) {
        SCOPED_TRACE(n);
        const SessionRun r = run_raw({Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n))});
        EXPECT_EQ(r.commands(), kOnlyAuthRequest);
        EXPECT_EQ(r.outcome.end_reason, -1);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Connection);
    }
    expect_untouched(op);
}

TEST_F(CapfSession, FrameDeliveredByteByByteIsAccepted) {
    const Operation op = schedule(OperationKind::Install);
    std::vector<Bytes> chunks;
    for (std::uint8_t b : wire(auth_response())) chunks.push_back(Bytes{b});
    const Bytes key = wire(keygen_response(pki().phone_rsa.get()));
    chunks.push_back(Bytes(key.begin(), key.begin() + 8));
    chunks.push_back(Bytes(key.begin() + 8, key.end()));
    chunks.push_back(wire(store_ok()));
    const SessionRun r = run_raw(chunks);
    EXPECT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

TEST_F(CapfSession, BadProtocolIdEndsWith7) {
    const Operation op = schedule(OperationKind::Install);
    Bytes f = wire(auth_response());
    f[0] = 0x56;
    const SessionRun r = run_raw({f, wire(keygen_response(pki().phone_rsa.get())), wire(store_ok())});
    EXPECT_EQ(r.commands(), kAuthThenEnd) << "no resynchronisation";
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::Protocol);
    expect_untouched(op);
}

TEST_F(CapfSession, BadProtocolIdLaterInTheSessionEndsWith7) {
    const Operation op = schedule(OperationKind::Install);
    Bytes key = wire(keygen_response(pki().phone_rsa.get()));
    key[0] = 0x00;
    const SessionRun r = run_raw({wire(auth_response()), key, wire(store_ok())});
    EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 15}));
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedDuringKeygen); // classed by what was awaited
    expect_untouched(op);
}

TEST_F(CapfSession, SessionIdMismatchEndsWith7) {
    const Operation op = schedule(OperationKind::Install);
    {
        const SessionRun r = run({auth_response(kDevice, "", 3, kSid + 1), keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Protocol);
    }
    {
        const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get(), 0), store_ok()});
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 15}));
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedDuringKeygen);
    }
    {
        Message stored = reason_message(Command::StoreCertificateResponse, 1, kSid ^ 0x80000000u);
        const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get()), stored});
        EXPECT_EQ(r.commands(), kFullInstall);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedAfterKeygen); // the LSC is out, unconfirmed
        // The LSC was sent, its confirmation is void: the phone may hold it, so it stays unconfirmed.
        expect_delivered_recorded(r, CertificateStatus::Unconfirmed);
    }
    {
        Message keepalive(Command::RequestInProgress, kSid + 5);
        const SessionRun r = run({auth_response(), keepalive, keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.end_reason(), 7) << "a keep-alive with a foreign session id is still a mismatch";
        EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedDuringKeygen);
    }
    expect_untouched(op, 1);
    EXPECT_FALSE(active());
}

TEST_F(CapfSession, TruncatedBodyEndsWith7) {
    const Operation op = schedule(OperationKind::Install);
    const Bytes full = wire(auth_response());
    {
        const SessionRun r = run_raw({Bytes(full.begin(), full.end() - 3)});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Protocol);
    }
    {
        // Timeout instead of EOF inside the body: also END_SESSION(7).
        const SessionRun r = run_raw({Bytes(full.begin(), full.end() - 3)}, true);
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Connection); // silent inside the body: a timeout
    }
    {
        const Bytes key = wire(keygen_response(pki().phone_rsa.get()));
        const SessionRun r = run_raw({full, Bytes(key.begin(), key.begin() + 20)});
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 15}));
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedDuringKeygen);
    }
    expect_untouched(op);
}

TEST_F(CapfSession, ElementRunningPastTheBodyEndsWith7) {
    const Operation op = schedule(OperationKind::Install);
    // VERSION claims 2 bytes but only 1 is in the body.
    const Bytes value_past = {0x55, 0x02, 0x0B, 0xAD, 0xF0, 0x0D, 0x00, 0x04, 0x07, 0x00, 0x02, 0x03};
    const SessionRun a = run_raw({value_past});
    EXPECT_EQ(a.commands(), kAuthThenEnd);
    EXPECT_EQ(a.end_reason(), 7);
    EXPECT_EQ(a.outcome.cause_class, SessionCause::Protocol);

    // A partial element header at the end of the body (the reference crashed here).
    Bytes body = {0x07, 0x00, 0x01, 0x03, 0x0d};
    Bytes header_cut = {0x55, 0x02, 0x0B, 0xAD, 0xF0, 0x0D, 0x00, static_cast<std::uint8_t>(body.size())};
    header_cut.insert(header_cut.end(), body.begin(), body.end());
    const SessionRun b = run_raw({header_cut});
    EXPECT_EQ(b.commands(), kAuthThenEnd);
    EXPECT_EQ(b.end_reason(), 7);
    EXPECT_EQ(b.outcome.cause_class, SessionCause::Protocol);
    expect_untouched(op);
}

TEST_F(CapfSession, WrongLengthForFixedSizeElementEndsWith7) {
    const Operation op = schedule(OperationKind::Install);
    {
        Message auth(Command::AuthResponse, kSid);
        auth.add_u8(Tag::Reason, 1).add_bytes(Tag::Version, Bytes{0x00, 0x03}).add_string(Tag::Password, "").add_string(
            Tag::DeviceName, kDevice);
        const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Protocol);
    }
    {
        Message stored(Command::StoreCertificateResponse, kSid);
        stored.add_bytes(Tag::Reason, Bytes{0x00, 0x01});
        const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get()), stored});
        EXPECT_EQ(r.commands(), kFullInstall);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::PhoneRefused); // no readable REASON=1: a refusal
    }
    expect_untouched(op);
    EXPECT_FALSE(active());
}

TEST_F(CapfSession, DeviceNameWithoutNulIsAccepted) {
    const Operation op = schedule(OperationKind::Install);
    Message auth(Command::AuthResponse, kSid);
    auth.add_u8(Tag::Reason, 1).add_u8(Tag::Version, 3).add_string(Tag::Password, "").add_bytes(Tag::DeviceName,
                                                                                                as_bytes(kDevice));
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(r.outcome.device, kDevice) << "the last character is not dropped";
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

TEST_F(CapfSession, DeviceNameWithEmbeddedNulIsRejected) {
    const Operation op = schedule(OperationKind::Install);
    Bytes name(kDevice.begin(), kDevice.end());
    name.push_back(0);
    name.push_back('X');
    name.push_back(0);
    Message auth(Command::AuthResponse, kSid);
    auth.add_u8(Tag::Reason, 1).add_u8(Tag::Version, 3).add_bytes(Tag::DeviceName, name);
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::Protocol);
    expect_untouched(op);
}

TEST_F(CapfSession, UnknownTagsAreSkippedAndTheSessionProceeds) {
    const Operation op = schedule(OperationKind::Install);
    Message auth = auth_response();
    auth.add_raw(14, Bytes{0xAA, 0xBB}).add_raw(99, Bytes{}).add_raw(0xFE, Bytes(40, 0x01));
    auth.add_u16(Tag::KeySize, 2048);  // a tag phones do not send: ignored, not rejected
    Message key = keygen_response(pki().phone_rsa.get());
    key.add_raw(15, Bytes{0x01}).add_u8(Tag::DigestType, hash_code::kSha512);
    Message stored = store_ok();
    stored.add_string(Tag::ReasonInfo, "stored in slot 1").add_raw(200, Bytes{0});
    const SessionRun r = run({auth, key, stored});
    EXPECT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    EXPECT_TRUE(active());
}

TEST_F(CapfSession, UnexpectedCommandInsteadOfAuthResponse) {
    const Operation op = schedule(OperationKind::Install);
    for (int c : {22, 23, 5, 6, 7, 8, 16, 18, 19, 20, 21, 4, 10, 1, 15, 99}) {
        SCOPED_TRACE(c);
        Message m(static_cast<std::uint8_t>(c), kSid);
        m.add_u8(Tag::Reason, 1).add_u8(Tag::Version, 3).add_string(Tag::DeviceName, kDevice);
        const SessionRun r = run({m, keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Protocol);
    }
    expect_untouched(op);
}

TEST_F(CapfSession, UnexpectedCommandInsteadOfKeyGenerateResponse) {
    const Operation op = schedule(OperationKind::Install);
    {
        Message sign(Command::SignCertificateRequest, kSid);
        sign.add_bytes(Tag::PublicKey, spki(pki().phone_rsa.get()));
        const SessionRun r = run({auth_response(), sign, keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 15}));
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedDuringKeygen);
    }
    {
        const SessionRun r = run({auth_response(), store_ok(), keygen_response(pki().phone_rsa.get())});
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 15}));
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedDuringKeygen);
    }
    {
        Message csr(Command::SignCertificateResponse, kSid);
        csr.add_bytes(Tag::PublicKey, spki(pki().phone_rsa.get()));
        const SessionRun r = run({auth_response(), rip(), csr});
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedDuringKeygen);
    }
    expect_untouched(op);
    EXPECT_FALSE(active());
}

TEST_F(CapfSession, UnexpectedCommandInsteadOfStoreResponseLeavesTheLscUnconfirmed) {
    const Operation op = schedule(OperationKind::Install);
    const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get()), keygen_response(pki().phone_rsa.get())});
    EXPECT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedAfterKeygen);
    expect_untouched(op, 1);
    expect_delivered_recorded(r, CertificateStatus::Unconfirmed);
    EXPECT_FALSE(active());
}

TEST_F(CapfSession, VersionMissingOrAbove3EndsWith7) {
    const Operation op = schedule(OperationKind::Install);
    for (std::optional<std::uint8_t> v : {std::optional<std::uint8_t>{}, std::optional<std::uint8_t>{4},
                                          std::optional<std::uint8_t>{255}, std::optional<std::uint8_t>{0}}) {
        SCOPED_TRACE(v ? std::to_string(*v) : "missing");
        const SessionRun r = run({auth_response(kDevice, "", v), keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Protocol);
    }
    expect_untouched(op);
}

TEST_F(CapfSession, MissingDeviceNameEndsWith7) {
    const Operation op = schedule(OperationKind::Install);
    const SessionRun r = run({auth_response(""), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::Protocol);
    expect_untouched(op);
}

TEST_F(CapfSession, KeyGenerateResponseWithoutPublicKeyKeepsTheOperationPending) {
    const Operation op = schedule(OperationKind::Install);
    {
        const SessionRun r = run({auth_response(), reason_message(Command::KeyGenerateResponse, 7), store_ok()});
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 15}));
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::KeyRefused);
    }
    {
        const SessionRun r = run({auth_response(), Message(Command::KeyGenerateResponse, kSid), store_ok()});
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::KeyRefused);
    }
    expect_untouched(op);
}

TEST_F(CapfSession, UnparsablePublicKeyKeepsTheOperationPending) {
    const Operation op = schedule(OperationKind::Install);
    Bytes trailing = spki(pki().phone_rsa.get());
    trailing.push_back(0x00);
    Bytes cut = spki(pki().phone_rsa.get());
    cut.resize(cut.size() / 2);
    for (const Bytes& junk : {Bytes{0x30, 0x00}, Bytes{0xDE, 0xAD, 0xBE, 0xEF}, Bytes{}, trailing, cut}) {
        SCOPED_TRACE(junk.size());
        Message key(Command::KeyGenerateResponse, kSid);
        key.add_bytes(Tag::PublicKey, junk);
        const SessionRun r = run({auth_response(), key, store_ok()});
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 15}));
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::KeyRefused);
    }
    expect_untouched(op);
}

TEST_F(CapfSession, WrongKeyTypeOrSizeKeepsTheOperationPending) {
    {
        const Operation op = schedule(OperationKind::Install, AuthMode::Null, "rsa:2048");
        const SessionRun small = run({auth_response(), keygen_response(pki().phone_rsa_1024.get()), store_ok()});
        EXPECT_EQ(small.commands(), (std::vector<int>{1, 3, 15})) << "no certificate for a key that was not asked for";
        EXPECT_EQ(small.end_reason(), 7);
        EXPECT_EQ(small.outcome.cause_class, SessionCause::KeyRefused);
        const SessionRun ec = run({auth_response(), keygen_response(pki().phone_ec.get()), store_ok()});
        EXPECT_EQ(ec.commands(), (std::vector<int>{1, 3, 15}));
        EXPECT_EQ(ec.end_reason(), 7);
        EXPECT_EQ(ec.outcome.cause_class, SessionCause::KeyRefused);
        expect_untouched(op);
    }
    {
        const Operation op = schedule(OperationKind::Install, AuthMode::Null, "ec:p256");
        const SessionRun rsa = run({auth_response(), keygen_response(pki().phone_rsa.get()), store_ok()});
        EXPECT_EQ(rsa.end_reason(), 7);
        EXPECT_EQ(rsa.outcome.cause_class, SessionCause::KeyRefused);
        const SessionRun curve = run({auth_response(), keygen_response(pki().phone_ec_384.get()), store_ok()});
        EXPECT_EQ(curve.commands(), (std::vector<int>{1, 3, 15}));
        EXPECT_EQ(curve.end_reason(), 7);
        EXPECT_EQ(curve.outcome.cause_class, SessionCause::KeyRefused);
        expect_untouched(op);
    }
}

TEST_F(CapfSession, StoreResponseReasonNot1CommitsNothing) {
    const Operation op = schedule(OperationKind::Install);
    for (std::optional<std::uint8_t> reason :
         {std::optional<std::uint8_t>{7}, std::optional<std::uint8_t>{0}, std::optional<std::uint8_t>{9},
          std::optional<std::uint8_t>{}}) {
        SCOPED_TRACE(reason ? std::to_string(*reason) : "absent");
        Message stored(Command::StoreCertificateResponse, kSid);
        if (reason) stored.add_u8(Tag::Reason, *reason);
        const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get()), stored});
        EXPECT_EQ(r.commands(), kFullInstall);
        EXPECT_EQ(r.end_reason(), 7) << "the reference's END_SESSION(1) here is the bug §6.2 warns about";
        EXPECT_TRUE(r.outcome.serial.empty());
        EXPECT_EQ(r.outcome.cause_class, SessionCause::PhoneRefused);
    }
    expect_untouched(op);
    EXPECT_FALSE(active());
}

TEST_F(CapfSession, StoreResponseReasonNot1DoesNotSupersedeTheCurrentLsc) {
    X509Ptr current = give_active_lsc(kDevice, pki().phone_rsa.get());
    const Operation op = schedule(OperationKind::Install, AuthMode::Lsc);
    Message auth = auth_response();
    add_proof(auth, kDevice, current.get(), pki().phone_rsa.get());
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa_new.get()),
                       reason_message(Command::StoreCertificateResponse, reason::kInvalidElement)});
    EXPECT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::PhoneRefused);
    expect_untouched(op, 1);
    ASSERT_TRUE(active());
    EXPECT_EQ(active()->facts.sha256, fingerprint(current.get()));
}

TEST_F(CapfSession, WriteFailureWhileSendingEndSessionDoesNotCrash) {
    {
        // Unknown device: END_SESSION(9) cannot be written.
        EndSessionWriteFails stream;
        stream.push(wire(auth_response("SEP999999999999")));
        const SessionRun r = run_stream(stream);
        EXPECT_EQ(stream.refused, 1);
        EXPECT_EQ(r.commands(), kOnlyAuthRequest);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::UnknownDevice);
    }
    {
        // A failed install: END_SESSION(7) is lost, nothing is committed.
        const Operation op = schedule(OperationKind::Install);
        EndSessionWriteFails stream;
        stream.push(wire(auth_response()));
        stream.push(wire(keygen_response(pki().phone_rsa.get())));
        stream.push(wire(reason_message(Command::StoreCertificateResponse, 7)));
        const SessionRun r = run_stream(stream);
        EXPECT_EQ(stream.refused, 1);
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 9}));
        expect_untouched(op);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::PhoneRefused);
    }
    {
        // A successful install: the phone confirmed storage, so the LSC is recorded even
        // though the final END_SESSION(1) could not be written.
        const Operation op = schedule(OperationKind::Install);
        EndSessionWriteFails stream;
        stream.push(wire(auth_response()));
        stream.push(wire(keygen_response(pki().phone_rsa.get())));
        stream.push(wire(store_ok()));
        const SessionRun r = run_stream(stream);
        EXPECT_EQ(stream.refused, 1);
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 9}));
        EXPECT_EQ(state_of(op), OperationState::Succeeded);
        EXPECT_TRUE(active());
        EXPECT_EQ(r.outcome.cause_class, SessionCause::None);
    }
}

TEST_F(CapfSession, EveryWriteFailingDoesNotCrash) {
    const Operation op = schedule(OperationKind::Install);
    MemoryStream stream;
    stream.set_fail_writes(true);
    stream.push(wire(auth_response()));
    stream.push(wire(keygen_response(pki().phone_rsa.get())));
    stream.push(wire(store_ok()));
    const SessionRun r = run_stream(stream);
    EXPECT_TRUE(r.frames.empty());
    EXPECT_EQ(r.outcome.result, "closed");
    EXPECT_EQ(r.outcome.cause_class, SessionCause::Connection);
    expect_untouched(op);
}

TEST_F(CapfSession, PhoneClosesAfterKeyGeneration) {
    const Operation op = schedule(OperationKind::Install);
    {
        // The phone answered KEY_GENERATE and vanished before confirming storage:
        // it may hold the LSC, so the registry has it, unconfirmed, not active.
        const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get())});
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 9}));
        EXPECT_EQ(r.end_reason(), -1) << "no END_SESSION to a closed peer";
        EXPECT_EQ(r.outcome.result, "closed");
        EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedAfterKeygen);
        expect_untouched(op, 1);
        expect_delivered_recorded(r, CertificateStatus::Unconfirmed);
        EXPECT_FALSE(active());
    }
    {
        // The phone generated its key and closed before answering KEY_GENERATE.
        const SessionRun r = run({auth_response(), rip(), rip()});
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3}));
        EXPECT_EQ(r.end_reason(), -1);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedDuringKeygen);
        expect_untouched(op, 1);
    }
}

TEST_F(CapfSession, TimeoutsEndWith7AndKeepTheOperationPending) {
    const Operation op = schedule(OperationKind::Install);
    {
        const SessionRun r = run({}, true);
        EXPECT_EQ(r.commands(), kAuthThenEnd);
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Connection);
    }
    {
        const SessionRun r = run({auth_response(), rip()}, true);
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 15}));
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedDuringKeygen);
    }
    expect_untouched(op);
    {
        const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa.get())}, true);
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 9, 15}));
        EXPECT_EQ(r.end_reason(), 7);
        EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedAfterKeygen);
        expect_delivered_recorded(r, CertificateStatus::Unconfirmed);
    }
    expect_untouched(op, 1);
    EXPECT_FALSE(active());
}

TEST_F(CapfSession, KeyGenerationWaitUsesTheLongTimeoutAndEachKeepAliveRestartsIt) {
    // §6.8: ~10-30 s for ordinary replies, ~120-300 s for WAIT_KEYGEN, restarted by each 17.
    settings.reply_timeout = 2s;
    settings.keygen_timeout = 120s;
    const Operation op = schedule(OperationKind::Install);
    DeadlineRecordingStream stream;
    stream.push(wire(auth_response()));               // reads 0 (header), 1 (body)
    stream.push(wire(rip()));                         // read 2 (header only: empty body)
    stream.push(wire(keygen_response(pki().phone_rsa.get())));  // reads 3, 4
    stream.push(wire(store_ok()));                    // reads 5, 6
    const SessionRun r = run_stream(stream);
    EXPECT_EQ(r.end_reason(), 1);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
    ASSERT_EQ(stream.remaining.size(), 7u);
    for (std::size_t i : {0u, 1u, 5u, 6u}) {
        EXPECT_LE(stream.remaining[i], 2s) << "read " << i << " waits for an ordinary reply";
        EXPECT_GT(stream.remaining[i], 1s) << "read " << i;
    }
    for (std::size_t i : {2u, 3u, 4u}) EXPECT_GT(stream.remaining[i], 60s) << "read " << i << " waits for key generation";
    EXPECT_EQ(stream.deadlines[0], stream.deadlines[1]) << "one deadline per message, not per read";
    EXPECT_EQ(stream.deadlines[3], stream.deadlines[4]);
    EXPECT_GT(stream.deadlines[3], stream.deadlines[2]) << "the keep-alive restarted the wait";
}

TEST_F(CapfSession, DeleteAndFetchResponsesThatNeverComeKeepTheOperationPending) {
    X509Ptr lsc = give_active_lsc(kDevice, pki().phone_rsa.get());
    {
        const Operation op = schedule(OperationKind::Delete);
        const SessionRun r = run({auth_response()});
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 13}));
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Connection);
        expect_untouched(op, 1);
        EXPECT_TRUE(active());
    }
    {
        const Operation op = schedule(OperationKind::Fetch);
        const SessionRun r = run({auth_response()});
        EXPECT_EQ(r.commands(), (std::vector<int>{1, 11}));
        EXPECT_EQ(r.outcome.cause_class, SessionCause::Connection);
        expect_untouched(op, 1);
    }
}

// =============================================================================
// The issued LSC is recorded before it is sent (issue 7 item 4): whatever happens
// after the phone stored it (SIGKILL, a locked or full database), the registry
// knows it, as unconfirmed, and RADIUS accepts it from the phone that holds its key.

// A stream that runs `hook` when the server writes a frame of command `when`
// (to lock the registry at exactly that step).
class HookStream : public MemoryStream {
public:
    IoResult write_all(ByteView data, Clock::time_point deadline) override {
        if (data.size() >= 2 && data[1] == when) {
            if (hook) hook();
            if (fail_write) return {IoStatus::Error, 0, "connection reset"};
        }
        return MemoryStream::write_all(data, deadline);
    }
    std::uint8_t when = 0;
    std::function<void()> hook;
    bool fail_write = false;
};

class CapfSessionLockedRegistry : public CapfSession {
protected:
    // The session's store waits 50 ms for a lock, not 5 s; `blocker` is another
    // process's writer holding the lock (a long CLI transaction, a full disk).
    Store quick = [this] {
        auto s = Store::open((dir / "lscgate.db").string(), Store::OpenMode::ExistingReadWrite, 50);
        if (!s) throw std::runtime_error(s.message());
        return std::move(*s);
    }();
    Store blocker = [this] {
        auto s = Store::open((dir / "lscgate.db").string(), Store::OpenMode::ExistingReadWrite, 50);
        if (!s) throw std::runtime_error(s.message());
        return std::move(*s);
    }();
    bool locked = false;
    void lock() { locked = blocker.database().exec("BEGIN IMMEDIATE").ok(); }
    void TearDown() override {
        if (locked) (void)blocker.database().exec("ROLLBACK");
    }

    SessionRun run_locked_at(Command step, const std::vector<Message>& phone) {
        HookStream stream;
        stream.when = static_cast<std::uint8_t>(step);
        stream.hook = [this] { lock(); };
        for (const auto& m : phone) stream.push(wire(m));
        FrameChannel channel(stream);
        SessionContext ctx{quick, authority, trust, settings};
        SessionRun r;
        r.outcome = run_session(channel, ctx, kSid);
        for (const Bytes& f : stream.take_written_frames()) r.frames.push_back(*decode_frame(f));
        EXPECT_TRUE(locked) << "the registry was never locked: the hook did not run";
        (void)blocker.database().exec("ROLLBACK");
        locked = false;
        return r;
    }
};

TEST_F(CapfSession, ServerKilledAfterThePhoneStoredLeavesItsLscUnconfirmed) {
    // SIGKILL between the phone's "stored" answer and the commit, as the session
    // sees it: the answer never gets read (the connection is gone).
    const Operation op = schedule(OperationKind::Install, AuthMode::Null, "ec:p256");
    const SessionRun r = run({auth_response(), keygen_response(pki().phone_ec.get())});
    EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 9}));
    EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedAfterKeygen);
    expect_delivered_recorded(r, CertificateStatus::Unconfirmed);
    EXPECT_FALSE(active()) << "never active before the phone confirms";
    EXPECT_FALSE(is_finished(state_of(op))) << "the operation stays open for the next session";
    EXPECT_FALSE(r.outcome.serial.empty()) << "the log names the unconfirmed serial";
}

TEST_F(CapfSessionLockedRegistry, RegistryLockedAfterTheLscWasSentLeavesItUnconfirmed) {
    // "LSC stored by the phone but not recorded: database is locked": the phone
    // confirms, the commit fails (another writer holds the lock past the timeout).
    const Operation op = schedule(OperationKind::Install);
    const SessionRun r = run_locked_at(Command::StoreCertificateRequest,
                                       {auth_response(), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kFullInstall);
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::Server);
    EXPECT_NE(r.outcome.cause.find("locked"), std::string::npos) << r.outcome.cause;
    expect_delivered_recorded(r, CertificateStatus::Unconfirmed);
    EXPECT_FALSE(active());
    EXPECT_FALSE(is_finished(state_of(op)));
}

TEST_F(CapfSessionLockedRegistry, AnLscThatCannotBeRecordedIsNeverSent) {
    const Operation op = schedule(OperationKind::Install);
    const SessionRun r = run_locked_at(Command::KeyGenerateRequest,
                                       {auth_response(), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), (std::vector<int>{1, 3, 15}));
    EXPECT_EQ(r.find(Command::StoreCertificateRequest), nullptr) << "no LSC leaves the server unrecorded";
    EXPECT_EQ(r.end_reason(), 7);
    EXPECT_EQ(r.outcome.cause_class, SessionCause::Server);
    EXPECT_NE(r.outcome.cause.find("not recorded, so not sent"), std::string::npos) << r.outcome.cause;
    EXPECT_TRUE(certs().empty());
    EXPECT_FALSE(is_finished(state_of(op))) << "nothing lost: the next session runs it";
    // The next session, with the registry free again, completes it.
    const SessionRun again = run({auth_response(), keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(again.end_reason(), 1);
    expect_delivered_recorded(again, CertificateStatus::Active);
}

TEST_F(CapfSession, PhoneRefusingOrNeverReceivingTheLscLeavesNoRow) {
    const Operation op = schedule(OperationKind::Install);
    const SessionRun refused = run({auth_response(), keygen_response(pki().phone_rsa.get()),
                                    reason_message(Command::StoreCertificateResponse, reason::kInvalidElement)});
    EXPECT_EQ(refused.end_reason(), 7);
    EXPECT_EQ(refused.outcome.cause_class, SessionCause::PhoneRefused);
    expect_untouched(op);
    EXPECT_EQ(count_audit("lsc.discard"), 1);
    // A STORE_CERTIFICATE_REQUEST that could not be written reached no phone.
    HookStream stream;
    stream.when = static_cast<std::uint8_t>(Command::StoreCertificateRequest);
    stream.fail_write = true;
    stream.push(wire(auth_response()));
    stream.push(wire(keygen_response(pki().phone_rsa.get())));
    const SessionRun lost = run_stream(stream);
    EXPECT_EQ(lost.outcome.result, "closed");
    EXPECT_EQ(lost.outcome.cause_class, SessionCause::Connection); // never sent: not after keygen
    expect_untouched(op);
    EXPECT_EQ(count_audit("lsc.discard"), 2);
}

TEST_F(CapfSession, ConfirmingANewLscSupersedesAStaleUnconfirmedOne) {
    const Operation op = schedule(OperationKind::Install);
    const SessionRun lost = run({auth_response(), keygen_response(pki().phone_rsa.get())});
    expect_delivered_recorded(lost, CertificateStatus::Unconfirmed);
    // The phone (which never stored that one) comes back and completes the install.
    const SessionRun r = run({auth_response(), keygen_response(pki().phone_rsa_new.get()), store_ok()});
    EXPECT_EQ(r.end_reason(), 1);
    expect_delivered_recorded(r, CertificateStatus::Active);
    expect_delivered_recorded(lost, CertificateStatus::Superseded);
    EXPECT_EQ(state_of(op), OperationState::Succeeded);
}

TEST_F(CapfSession, ProvingPossessionOfAnUnconfirmedLscMakesItActive) {
    // Session 1: the phone stored the LSC, the server died before recording that.
    schedule(OperationKind::Install);
    const SessionRun lost = run({auth_response(), keygen_response(pki().phone_rsa.get())});
    expect_delivered_recorded(lost, CertificateStatus::Unconfirmed);
    auto w = unwrap_certificate(*lost.find(Command::StoreCertificateRequest)->find(Tag::Certificate));
    X509Ptr held = std::move(*parse_certificate_der(w->der));
    // Session 2 (auth by LSC): the proof settles it at once, even if this session
    // then fails (the phone drops after key generation).
    const Operation rekey = schedule(OperationKind::Install, AuthMode::Lsc);
    Message auth = auth_response();
    add_proof(auth, kDevice, held.get(), pki().phone_rsa.get());
    const SessionRun r = run({auth, rip()});
    EXPECT_EQ(r.outcome.authenticated_by, "LSC");
    EXPECT_EQ(r.outcome.cause_class, SessionCause::DroppedDuringKeygen);
    expect_delivered_recorded(lost, CertificateStatus::Active);
    EXPECT_FALSE(is_finished(state_of(rekey)));
    EXPECT_EQ(count_audit("lsc.issue"), 1);
    // Session 3 completes the re-key: the proven LSC is superseded by the new one.
    Message auth3 = auth_response();
    add_proof(auth3, kDevice, held.get(), pki().phone_rsa.get());
    const SessionRun done = run({auth3, keygen_response(pki().phone_rsa_new.get()), store_ok()});
    EXPECT_EQ(done.end_reason(), 1);
    expect_delivered_recorded(done, CertificateStatus::Active);
    expect_delivered_recorded(lost, CertificateStatus::Superseded);
}

TEST_F(CapfSession, AnUnconfirmedLscOlderThanTheActiveOneCannotAuthenticate) {
    schedule(OperationKind::Install);
    const SessionRun lost = run({auth_response(), keygen_response(pki().phone_rsa.get())});
    auto w = unwrap_certificate(*lost.find(Command::StoreCertificateRequest)->find(Tag::Certificate));
    X509Ptr stale = std::move(*parse_certificate_der(w->der));
    X509Ptr newer = give_active_lsc(kDevice, pki().phone_rsa_new.get());
    // Stale rows become superseded when a newer LSC is confirmed; even one still
    // marked unconfirmed (an older lscgate, a hand edit) cannot override it.
    ASSERT_TRUE(store.database().exec("UPDATE certificates SET status='unconfirmed' WHERE fingerprint='" +
                                      fingerprint(stale.get()) + "'"));
    const Operation op = schedule(OperationKind::Install, AuthMode::Lsc);
    Message auth = auth_response();
    add_proof(auth, kDevice, stale.get(), pki().phone_rsa.get());
    const SessionRun r = run({auth, keygen_response(pki().phone_rsa.get()), store_ok()});
    EXPECT_EQ(r.commands(), kAuthThenEnd);
    EXPECT_EQ(r.outcome.result, "rejected");
    EXPECT_EQ(r.outcome.cause_class, SessionCause::CertificateRefused);
    EXPECT_EQ(active()->facts.sha256, fingerprint(newer.get()));
    expect_delivered_recorded(lost, CertificateStatus::Superseded);
    EXPECT_FALSE(is_finished(state_of(op)));
}

}  // namespace
}  // namespace lscgate::capf
