#include "capf/session.h"

#include "capf/codec.h"
#include "capf/operation_claim.h"
#include "capf/session_auth.h"

#include "pki/certificate.h"
#include "registry/device_name.h"
#include "pki/keys.h"

#include <algorithm>
#include <optional>

namespace lscgate::capf {

SessionSettings SessionSettings::from(const Config& config) {
    SessionSettings s;
    s.reply_timeout = std::chrono::seconds(config.reply_timeout_s);
    s.keygen_timeout = std::chrono::seconds(config.keygen_timeout_s);
    s.lsc_days = config.lsc_days;
    s.lockout_failures = config.lockout_failures;
    s.lockout_seconds = config.lockout_seconds;
    s.allow_sha1_only_proof = config.allow_sha1_only_proof;
    s.accept_expired_mic = config.accept_expired_mic;
    s.sudi = config.sudi;
    return s;
}

namespace {

// The phone's REASON as text for error messages ("7", "absent", "malformed").
std::string reason_text(const Message& m) {
    auto r = m.u8(Tag::Reason);
    if (!r) return "malformed";
    return r->has_value() ? std::to_string(**r) : "absent";
}

// True only for an explicit REASON=1 (UPDATE_CERTIFICATE): anything else is a refusal.
bool phone_succeeded(const Message& m) {
    auto r = m.u8(Tag::Reason);
    return r && r->has_value() && **r == reason::kUpdateCertificate;
}

// How a failed wait is classed: by what the phone was doing. A phone that goes
// away while generating its key, or after the LSC was sent (left unconfirmed),
// is a different problem for the administrator than a connection lost elsewhere.
SessionCause wait_failure_class(Command expected, SessionCause otherwise) {
    if (expected == Command::KeyGenerateResponse) return SessionCause::DroppedDuringKeygen;
    if (expected == Command::StoreCertificateResponse) return SessionCause::DroppedAfterKeygen;
    return otherwise;
}

class ServerSession {
public:
    ServerSession(FrameChannel& channel, SessionContext& ctx, std::uint32_t sid)
        : channel_(channel), ctx_(ctx), sid_(sid) {}

    SessionOutcome run();

private:
    // Waits for `expected`, skipping any number of REQUEST_IN_PROGRESS keep-alives.
    // Only while a key is being generated does a keep-alive restart the wait (up
    // to kKeygenStretch times the timeout in all); elsewhere the deadline stands,
    // so an unauthenticated peer cannot hold a session slot with keep-alives.
    // On failure the outcome is filled and END_SESSION sent where a peer is still
    // there; the caller just returns.
    std::optional<Message> await(Command expected, std::chrono::milliseconds timeout);
    // Every way a session ends names its class (capf/session_cause.h).
    void end(std::uint8_t reason, std::string result, SessionCause cause_class, std::string cause);
    void close_silently(SessionCause cause_class, std::string cause);
    // A fault on our side (class Server).
    void end_server_error(const Error& error);
    void fail_operation(const Operation& op, OperationState state, const std::string& why);

    // The checks between AUTH_RESPONSE and the operation: false when they ended the session.
    bool identify(const Message& auth);
    bool admit(const Message& auth, const Device& dev, const Operation& operation);
    void install(const Operation& op, int phone_version);
    // Records the issued LSC (unconfirmed), sends it, and confirms it when the phone has stored it.
    void deliver_lsc(const Operation& op, const X509* lsc);
    void fetch(const Operation& op);
    void remove(const Operation& op);

    FrameChannel& channel_;
    SessionContext& ctx_;
    std::uint32_t sid_;
    std::string sent_name_;  // DEVICE_NAME exactly as received
    int phone_version_ = 0;  // its VERSION (1 to 3)
    SessionOutcome out_;
};

void ServerSession::end(std::uint8_t reason, std::string result, SessionCause cause_class, std::string cause) {
    Message m(Command::EndSession, sid_);
    m.add_u8(Tag::Reason, reason);
    (void)channel_.send(m);  // a failed write changes nothing: we close either way (§10)
    out_.end_reason = reason;
    out_.result = std::move(result);
    out_.cause_class = cause_class;
    if (!cause.empty()) out_.cause = std::move(cause);
}

void ServerSession::close_silently(SessionCause cause_class, std::string cause) {
    out_.result = "closed";
    out_.cause_class = cause_class;
    if (!cause.empty()) out_.cause = std::move(cause);
}

std::optional<Message> ServerSession::await(Command expected, std::chrono::milliseconds timeout) {
    constexpr int kKeygenStretch = 4;
    const bool keepalive_extends = expected == Command::KeyGenerateResponse;
    const SessionCause dropped = wait_failure_class(expected, SessionCause::Connection);
    const SessionCause garbled = wait_failure_class(expected, SessionCause::Protocol);
    const std::string waited_for = command_name(static_cast<std::uint8_t>(expected));
    const auto started = Clock::now();
    const auto hard_limit = started + timeout * (keepalive_extends ? kKeygenStretch : 1);
    auto deadline = started + timeout;
    while (true) {
        const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        Received r = remaining.count() > 0 ? channel_.receive(remaining)
                                           : Received{ReceiveStatus::Timeout, {}, "deadline passed"};
        switch (r.status) {
            case ReceiveStatus::Ok: break;
            case ReceiveStatus::Closed:
                close_silently(dropped, "phone closed the connection while " + waited_for + " was expected" +
                                            (r.detail.empty() ? "" : " (" + r.detail + ")"));
                return std::nullopt;
            case ReceiveStatus::Timeout:
                end(reason::kInvalidElement, "failed", dropped, "timed out waiting for " + waited_for);
                return std::nullopt;
            case ReceiveStatus::Malformed:
                end(reason::kInvalidElement, "failed", garbled, "malformed message: " + r.detail);
                return std::nullopt;
            case ReceiveStatus::IoError:
                close_silently(dropped, "connection error: " + r.detail);
                return std::nullopt;
        }
        if (r.message.session_id() != sid_) {
            end(reason::kInvalidElement, "failed", garbled,
                "session id mismatch (got " + std::to_string(r.message.session_id()) + ")");
            return std::nullopt;
        }
        if (r.message.is(Command::RequestInProgress)) {
            if (keepalive_extends) deadline = std::min(Clock::now() + timeout, hard_limit);
            continue;
        }
        if (!r.message.is(expected)) {
            end(reason::kInvalidElement, "failed", garbled,
                "unexpected " + command_name(r.message.command()) + " while waiting for " + waited_for);
            return std::nullopt;
        }
        return std::move(r.message);
    }
}

void ServerSession::fail_operation(const Operation& op, OperationState state, const std::string& why) {
    // Losing this write only loses the error text; the operation stays open either way.
    (void)ctx_.store.set_operation_state(op.id, state, why);
}

// A fault on our side ended the session: END_SESSION(7) like any failure (the phone
// knows no other code), but the outcome says whose problem it is.
void ServerSession::end_server_error(const Error& error) {
    end(reason::kInvalidElement, "failed", SessionCause::Server,
        std::string("server error (") + to_string(error.kind) + "): " + error.message);
}

void ServerSession::install(const Operation& op, int phone_version) {
    const KeySpec& spec = op.request.key;
    Message req(Command::KeyGenerateRequest, sid_);
    if (spec.type == KeyType::Rsa) {
        req.add_u16(Tag::KeySize, static_cast<std::uint16_t>(spec.rsa_bits)).add_u8(Tag::KeyType, key_type::kRsa);
    } else {
        if (phone_version < 3) {
            fail_operation(op, OperationState::Pending, "EC keys need CAPF protocol version 3; phone sent " + std::to_string(phone_version));
            end(reason::kInvalidElement, "failed", SessionCause::KeyRefused,
                "EC key requested from a version " + std::to_string(phone_version) + " client");
            return;
        }
        req.add_u8(Tag::KeyType, key_type::kEc).add_u8(Tag::Curve, static_cast<std::uint8_t>(curve_wire_code(spec.curve)));
    }
    if (!channel_.send(req)) {
        fail_operation(op, OperationState::Pending, "connection lost before key generation");
        close_silently(SessionCause::Connection, "write of KEY_GENERATE_REQUEST failed");
        return;
    }
    auto resp = await(Command::KeyGenerateResponse, ctx_.settings.keygen_timeout);
    if (!resp) {
        fail_operation(op, OperationState::Pending, "key generation not completed: " + out_.cause);
        return;
    }
    const Bytes* spki = resp->find(Tag::PublicKey);
    if (spki == nullptr) {
        const std::string why = "phone could not generate a key (REASON " + reason_text(*resp) + ")";
        fail_operation(op, OperationState::Pending, why);
        end(reason::kInvalidElement, "failed", SessionCause::KeyRefused, why);
        return;
    }
    auto key = parse_subject_public_key_info(*spki);
    if (!key) {
        fail_operation(op, OperationState::Pending, "phone returned an unusable public key");
        end(reason::kInvalidElement, "failed", SessionCause::KeyRefused, "PUBLIC_KEY: " + key.message());
        return;
    }
    auto got = describe_key(X509_PUBKEY_get0(key->get()));
    if (!got || !(*got == spec)) {
        const std::string why = "phone returned " + (got ? got->to_string() : got.message()) + " but " + spec.to_string() + " was requested";
        fail_operation(op, OperationState::Pending, why);
        end(reason::kInvalidElement, "failed", SessionCause::KeyRefused, why);
        return;
    }
    auto lsc = ctx_.authority.issue_lsc(op.device_name, key->get(), ctx_.settings.lsc_days);
    if (!lsc) {
        fail_operation(op, OperationState::Pending, "signing failed");
        end(reason::kInvalidElement, "failed", SessionCause::Server, lsc.message());
        return;
    }
    deliver_lsc(op, lsc->get());
}

void ServerSession::deliver_lsc(const Operation& op, const X509* lsc) {
    // Recorded (unconfirmed) before it leaves the server: a phone must never hold
    // an LSC the registry does not know, whatever happens between its "stored"
    // answer and our commit (SIGKILL, a locked or full database). No record, no send.
    auto recorded = ctx_.store.record_issued_lsc(op, lsc);
    if (!recorded) {
        fail_operation(op, OperationState::Pending, "LSC not recorded, so not sent: " + recorded.message());
        end(reason::kInvalidElement, "failed", SessionCause::Server, "LSC not recorded, so not sent: " + recorded.message());
        return;
    }
    const std::int64_t cert_id = recorded->id;
    out_.serial = recorded->facts.serial_hex;
    Message store_req(Command::StoreCertificateRequest, sid_);
    store_req.add_u8(Tag::CertificateType, cert_type::kLsc)
        .add_bytes(Tag::Certificate, wrap_certificate(certificate_der(lsc), cert_type::kLsc));
    if (!channel_.send(store_req)) {
        // A failed write delivered no complete message: the phone cannot hold it.
        (void)ctx_.store.discard_unconfirmed_lsc(cert_id, "STORE_CERTIFICATE_REQUEST could not be written");
        fail_operation(op, OperationState::Pending, "connection lost before the LSC was delivered");
        close_silently(SessionCause::Connection, "write of STORE_CERTIFICATE_REQUEST failed");
        return;
    }
    auto stored = await(Command::StoreCertificateResponse, ctx_.settings.reply_timeout);
    if (!stored) {
        // The phone may or may not hold it: it stays unconfirmed (RADIUS accepts it
        // from the phone that holds its key) until a later session settles it.
        fail_operation(op, OperationState::Pending, "LSC delivered but storage not confirmed (unconfirmed in the registry): " + out_.cause);
        return;
    }
    if (!phone_succeeded(*stored)) {
        const std::string why = "phone failed to store the LSC (REASON " + reason_text(*stored) + ")";
        (void)ctx_.store.discard_unconfirmed_lsc(cert_id, why);
        fail_operation(op, OperationState::Pending, why);
        out_.serial.clear();
        end(reason::kInvalidElement, "failed", SessionCause::PhoneRefused, why);
        return;
    }
    auto committed = ctx_.store.confirm_issued_lsc(op, cert_id);
    if (!committed) {
        // Still recorded as unconfirmed, so RADIUS accepts it; the operation stays open.
        fail_operation(op, OperationState::Pending, "LSC stored by the phone, left unconfirmed: " + committed.message());
        end(reason::kInvalidElement, "failed", SessionCause::Server,
            "LSC stored by the phone but not confirmed (recorded as unconfirmed): " + committed.message());
        return;
    }
    end(reason::kUpdateCertificate, "succeeded", SessionCause::None, "");
}

void ServerSession::fetch(const Operation& op) {
    if (!channel_.send(Message(Command::FetchCertificateRequest, sid_))) {
        fail_operation(op, OperationState::Pending, "connection lost before fetch");
        close_silently(SessionCause::Connection, "write of FETCH_CERTIFICATE_REQUEST failed");
        return;
    }
    auto resp = await(Command::FetchCertificateResponse, ctx_.settings.reply_timeout);
    if (!resp) {
        fail_operation(op, OperationState::Pending, "fetch not completed: " + out_.cause);
        return;
    }
    const Bytes* wrapped = resp->find(Tag::Certificate);
    if (!phone_succeeded(*resp) || wrapped == nullptr) {
        // §10: END_SESSION(7), commit nothing, keep the operation pending.
        const std::string why = "phone returned no certificate";
        fail_operation(op, OperationState::Pending, why);
        end(reason::kInvalidElement, "failed", SessionCause::PhoneRefused, why);
        return;
    }
    auto w = unwrap_certificate(*wrapped);
    if (!w) {
        fail_operation(op, OperationState::Pending, "fetched certificate is malformed");
        end(reason::kInvalidElement, "failed", SessionCause::Protocol, w.message());
        return;
    }
    auto cert = parse_certificate_der(w->der);
    if (!cert) {
        fail_operation(op, OperationState::Pending, "fetched certificate is malformed");
        end(reason::kInvalidElement, "failed", SessionCause::Protocol, cert.message());
        return;
    }
    // The wrapper's type byte is unreliable (§5.1); decide by who signed it.
    CertificateKind kind = CertificateKind::Lsc;
    if (!ctx_.trust.verify_lsc(cert->get(), now_utc()) &&
        (w->type == cert_type::kMic || ctx_.trust.verify_mic(cert->get(), now_utc(), false)))
        kind = CertificateKind::Mic;
    if (auto s = ctx_.store.commit_fetched_certificate(op, cert->get(), kind); !s) {
        end(reason::kInvalidElement, "failed", SessionCause::Server, "fetched certificate not recorded: " + s.message());
        return;
    }
    end(reason::kNoAction, "succeeded", SessionCause::None, std::string("fetched ") + std::string(to_string(kind)));
}

void ServerSession::remove(const Operation& op) {
    if (!channel_.send(Message(Command::DeleteCertificateRequest, sid_))) {
        fail_operation(op, OperationState::Pending, "connection lost before delete");
        close_silently(SessionCause::Connection, "write of DELETE_CERTIFICATE_REQUEST failed");
        return;
    }
    auto resp = await(Command::DeleteCertificateResponse, ctx_.settings.reply_timeout);
    if (!resp) {
        fail_operation(op, OperationState::Pending, "delete not completed: " + out_.cause);
        return;
    }
    if (!phone_succeeded(*resp)) {
        const std::string why = "phone did not delete its LSC (REASON " + reason_text(*resp) + ")";
        fail_operation(op, OperationState::Pending, why);
        end(reason::kInvalidElement, "failed", SessionCause::PhoneRefused, why);
        return;
    }
    if (auto s = ctx_.store.commit_deleted_lsc(op); !s) {
        end(reason::kInvalidElement, "failed", SessionCause::Server, "delete not recorded: " + s.message());
        return;
    }
    end(reason::kUpdateCertificate, "succeeded", SessionCause::None, "");
}

// VERSION and DEVICE_NAME, read and normalized (out_.device).
bool ServerSession::identify(const Message& auth) {
    // A repeated identity or credential element is ambiguous (which name is
    // meant?); refuse rather than pick one.
    if (auto tag = repeated_tag(auth)) {
        end(reason::kInvalidElement, "failed", SessionCause::Protocol, "AUTH_RESPONSE repeats " + tag_name(*tag));
        return false;
    }
    auto version = auth.u8(Tag::Version);
    if (!version) {
        end(reason::kInvalidElement, "failed", SessionCause::Protocol, version.message());
        return false;
    }
    if (!version->has_value() || **version < 1 || **version > 3) {
        end(reason::kInvalidElement, "failed", SessionCause::Protocol,
            version->has_value() ? "unsupported protocol VERSION " + std::to_string(**version) : "VERSION missing");
        return false;
    }
    auto name = auth.text(Tag::DeviceName);
    if (!name || !name->has_value()) {
        end(reason::kInvalidElement, "failed", SessionCause::Protocol, name ? "DEVICE_NAME missing" : name.message());
        return false;
    }
    phone_version_ = **version;
    sent_name_ = **name;
    auto normalized = normalize_device_name(**name);
    if (!normalized) {
        end(reason::kInvalidElement, "failed", SessionCause::Protocol, normalized.message());
        return false;
    }
    out_.device = *normalized;
    return true;
}

// The lockout, the credentials, the deadline and the claim: everything that
// must hold before the operation runs.
bool ServerSession::admit(const Message& auth, const Device& dev, const Operation& operation) {
    // Modes with a secret to guess count every attempt before checking it, so
    // parallel sessions cannot all try under the lockout limit.
    const bool guessable = operation.request.auth_mode != AuthMode::Null;
    if (guessable) {
        auto allowed = ctx_.store.reserve_auth_attempt(dev.id, ctx_.settings.lockout_failures, ctx_.settings.lockout_seconds);
        if (!allowed) {
            end_server_error(fail(allowed.kind(), "registry cannot be written: " + allowed.message()));
            return false;
        }
        if (!*allowed) {
            end(reason::kInvalidElement, "rejected", SessionCause::LockedOut,
                "device locked out after repeated authentication failures");
            return false;
        }
    }
    AuthVerdict verdict = authenticate_phone(ctx_, PhoneCredentials{auth, sent_name_, sid_}, dev, operation);
    if (!verdict.note.empty()) out_.note += (out_.note.empty() ? "" : "; ") + verdict.note;
    out_.authenticated_by = verdict.authenticated_by;
    if (const Status& s = verdict.status; !s) {
        if (s.kind() == ErrorKind::AuthFailed) {
            end(reason::kInvalidElement, "rejected", verdict.refused_as, "authentication failed: " + s.message());
            return false;
        }
        // Not the phone's fault: the attempt counted above never really happened.
        Error why = s.error();
        if (guessable) {
            if (auto r = ctx_.store.release_auth_attempt(dev.id, ctx_.settings.lockout_failures); r)
                why.message += " (not counted toward the lockout)";
            else
                why.message += " (the counted attempt could not be given back: " + r.message() + ")";
        }
        end_server_error(why);
        return false;
    }
    if (guessable || dev.auth_failures != 0 || dev.locked_until) {
        // A success that cannot clear the count would leave it standing as failures.
        if (auto c = ctx_.store.clear_auth_failures(dev.id); !c) {
            end_server_error(fail(c.kind(), "authenticated, but the failure count could not be cleared: " + c.message()));
            return false;
        }
    }
    if (operation.request.completes_by && *operation.request.completes_by < now_utc()) {
        fail_operation(operation, OperationState::TimedOut, "phone arrived after the completes-by deadline");
        end(reason::kNoAction, "timed-out", SessionCause::Late,
            "operation deadline " + format_utc(*operation.request.completes_by) + " passed");
        return false;
    }
    // The first write of every session that may issue anything: if the registry
    // cannot record (disk full, locked), refuse now, before a key or an LSC
    // exists, rather than hand out a certificate nobody can record.
    // It is also the claim: of two sessions for one operation (two `lscgate serve`
    // on one registry) only one takes it and may issue (issue 8 item 6).
    auto claim = OperationClaim::take(ctx_.store, operation.id, now_utc(), operation_claim_stale_seconds(ctx_.settings));
    if (!claim) {
        end(reason::kInvalidElement, "failed", SessionCause::Server, "registry cannot be written: " + claim.message());
        return false;
    }
    if (!claim->has_value()) {
        end(reason::kInvalidElement, "failed", SessionCause::Busy,
            "operation " + std::to_string(operation.id) + " is already in progress in another CAPF session (or ended meanwhile)");
        return false;
    }
    return true;
}

SessionOutcome ServerSession::run() {
    Message hello(Command::AuthRequest, sid_);
    hello.add_u8(Tag::Version, kServerVersion).add_u8(Tag::AuthType, auth_type::kNone);
    if (!channel_.send(hello)) {
        close_silently(SessionCause::Connection, "write of AUTH_REQUEST failed");
        return out_;
    }
    auto auth = await(Command::AuthResponse, ctx_.settings.reply_timeout);
    if (!auth || !identify(*auth)) return out_;

    auto device = ctx_.store.find_device(out_.device);
    if (!device) {
        end_server_error(fail(device.kind(), "registry unavailable: " + device.message()));
        return out_;
    }
    if (!device->has_value()) {
        end(reason::kUnknownDevice, "unknown-device", SessionCause::UnknownDevice, "device is not in the registry");
        return out_;
    }
    const Device& dev = **device;
    if (dev.locked_until && *dev.locked_until > now_utc()) {
        end(reason::kInvalidElement, "rejected", SessionCause::LockedOut,
            "device locked out until " + format_utc(*dev.locked_until) + " after repeated authentication failures");
        return out_;
    }
    auto op = ctx_.store.open_operation(dev.id);
    if (!op) {
        end_server_error(fail(op.kind(), "registry unavailable: " + op.message()));
        return out_;
    }
    if (!op->has_value() || (*op)->request.kind == OperationKind::None) {
        out_.operation = "none";
        end(reason::kNoAction, "no-operation", SessionCause::NoOperation, "no operation pending");
        return out_;
    }
    const Operation& operation = **op;
    out_.operation = std::string(to_string(operation.request.kind));
    out_.auth_mode = std::string(to_string(operation.request.auth_mode));
    out_.operation_id = operation.id;

    // Everything below writes to the registry: on a (nearly) full disk, refuse
    // cleanly now rather than fail after a key or an LSC exists.
    if (auto room = ctx_.store.check_free_space(kSessionMinFreeBytes); !room) {
        end(reason::kInvalidElement, "failed", SessionCause::Server, "registry cannot be written: " + room.message());
        return out_;
    }
    if (!admit(*auth, dev, operation)) return out_;

    switch (operation.request.kind) {
        case OperationKind::Install: install(operation, phone_version_); break;
        case OperationKind::Fetch: fetch(operation); break;
        case OperationKind::Delete: remove(operation); break;
        case OperationKind::None: break;
    }
    return out_;
}

}  // namespace

SessionOutcome run_session(FrameChannel& channel, SessionContext& context, std::uint32_t session_id) {
    return ServerSession(channel, context, session_id).run();
}

}  // namespace lscgate::capf
