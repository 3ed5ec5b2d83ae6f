#include "capf/session.h"

#include "capf/codec.h"
#include "capf/operation_claim.h"
#include "capf/run_sync.h"
#include "capf/session_auth.h"

#include "pki/certificate.h"
#include "registry/device_name.h"
#include "pki/keys.h"
#include "pki/spki.h"

#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

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
    ServerSession(FrameChannel& channel, const SessionEnvironment& env, std::uint32_t sid)
        : channel_(channel), env_(env), sid_(sid) {}

    asio::awaitable<SessionOutcome> run();

private:
    // The conversation up to its end; run() then sends the END_SESSION it chose.
    asio::awaitable<void> converse();
    // Waits for `expected`, skipping any number of REQUEST_IN_PROGRESS keep-alives.
    // Only while a key is being generated does a keep-alive restart the wait (up
    // to kKeygenStretch times the timeout in all); elsewhere the deadline stands,
    // so an unauthenticated peer cannot hold a session slot with keep-alives.
    // On failure the outcome is filled (END_SESSION chosen where a peer is still
    // there); the caller just returns.
    asio::awaitable<std::optional<Message>> await(Command expected, std::chrono::milliseconds timeout);
    asio::awaitable<bool> send(const Message& m) { co_return co_await channel_.async_send(m); }
    // Runs `step` (code that uses ctx(): the registry, proof checks, signing)
    // through the session's SessionWork. False when it could not run for want of
    // a registry connection: the session then ends as a server error, unless it
    // had already ended.
    asio::awaitable<bool> blocking(const std::function<void()>& step);
    SessionContext& ctx() { return *ctx_; }

    // Every way a session ends names its class (capf/session_cause.h). end()
    // chooses the END_SESSION that run() sends as the session's last message,
    // after every registry write of the session.
    void end(std::uint8_t reason, std::string result, SessionCause cause_class, std::string cause);
    void close_silently(SessionCause cause_class, std::string cause);
    // A fault on our side (class Server).
    void end_server_error(const Error& error);
    void fail_operation(const Operation& op, OperationState state, const std::string& why);

    // VERSION and DEVICE_NAME (no registry: runs on the loop).
    bool identify(const Message& auth);
    // Blocking steps (inside blocking()); each returns nullopt / false when it ended the session.
    std::optional<Operation> admit_operation(const Message& auth);
    bool admit(const Message& auth, const Device& dev, const Operation& operation);
    std::optional<Message> first_request(const Operation& op);
    std::optional<Message> issue(const Operation& op, const Message& keygen_response);
    void settle_install(const Operation& op, const Message& stored);
    void settle_fetch(const Operation& op, const Message& resp);
    void settle_delete(const Operation& op, const Message& resp);

    asio::awaitable<void> install(const Operation& op, const Message& request);
    // FETCH or DELETE: one request, one response, settled by `settle`.
    asio::awaitable<void> exchange(const Operation& op, const Message& request, Command expected, const char* what,
                                   void (ServerSession::*settle)(const Operation&, const Message&));

    FrameChannel& channel_;
    const SessionEnvironment& env_;
    std::uint32_t sid_;
    std::optional<SessionContext> ctx_;        // while a blocking step runs: its registry connection
    std::optional<std::uint8_t> end_reason_;  // the END_SESSION run() sends, if any
    std::string sent_name_;  // DEVICE_NAME exactly as received
    int phone_version_ = 0;  // its VERSION (1 to 3)
    std::int64_t cert_id_ = 0;  // the issued LSC's registry row (install), once recorded
    // The operation this session runs, held until the session ends: released
    // earlier, a second session of the same phone (it reconnected while the first
    // still waits in key generation) would take it again and issue a second LSC.
    std::optional<OperationClaim> claim_;
    SessionOutcome out_;
};

void ServerSession::end(std::uint8_t reason, std::string result, SessionCause cause_class, std::string cause) {
    end_reason_ = reason;
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

asio::awaitable<bool> ServerSession::blocking(const std::function<void()>& step) {
    const Status ran = co_await env_.work.run([&](Store& store) {
        ctx_.emplace(SessionContext{store, env_.authority, env_.trust, env_.settings});
        step();
        ctx_.reset();
    });
    if (!ran && out_.result.empty()) end_server_error(fail(ran.kind(), "registry unavailable: " + ran.message()));
    co_return ran.ok();
}

asio::awaitable<std::optional<Message>> ServerSession::await(Command expected, std::chrono::milliseconds timeout) {
    constexpr int kKeygenStretch = 4;
    // Keep-alives tolerated per wait: a burst, then one per second on average.
    constexpr long kKeepaliveBurst = 16;
    constexpr long kKeepalivesPerSecond = 1;
    long keepalives = 0;
    const bool keepalive_extends = expected == Command::KeyGenerateResponse;
    const SessionCause dropped = wait_failure_class(expected, SessionCause::Connection);
    const SessionCause garbled = wait_failure_class(expected, SessionCause::Protocol);
    const std::string waited_for = command_name(static_cast<std::uint8_t>(expected));
    const auto started = Clock::now();
    const auto hard_limit = started + timeout * (keepalive_extends ? kKeygenStretch : 1);
    auto deadline = started + timeout;
    while (true) {
        const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        // (Never a co_await inside a condition or ?: here: GCC 12 miscompiles some.)
        Received r{ReceiveStatus::Timeout, {}, "deadline passed"};
        if (remaining.count() > 0) r = co_await channel_.async_receive(remaining);
        switch (r.status) {
            case ReceiveStatus::Ok: break;
            case ReceiveStatus::Closed:
                close_silently(dropped, "phone closed the connection while " + waited_for + " was expected" +
                                            (r.detail.empty() ? "" : " (" + r.detail + ")"));
                co_return std::nullopt;
            case ReceiveStatus::Timeout:
                end(reason::kInvalidElement, "failed", dropped, "timed out waiting for " + waited_for);
                co_return std::nullopt;
            case ReceiveStatus::Malformed:
                end(reason::kInvalidElement, "failed", garbled, "malformed message: " + r.detail);
                co_return std::nullopt;
            case ReceiveStatus::IoError:
                close_silently(dropped, "connection error: " + r.detail);
                co_return std::nullopt;
        }
        if (r.message.session_id() != sid_) {
            end(reason::kInvalidElement, "failed", garbled,
                "session id mismatch (got " + std::to_string(r.message.session_id()) + ")");
            co_return std::nullopt;
        }
        if (r.message.is(Command::RequestInProgress)) {
            // A phone sends one every few seconds; a flood of them, each already
            // buffered so no read ever waits, would hold the event loop (every other
            // session, the deadlines, the watchdog) for as long as it lasts.
            ++keepalives;
            const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started).count();
            if (keepalives > kKeepaliveBurst + elapsed * kKeepalivesPerSecond) {
                end(reason::kInvalidElement, "failed", garbled,
                    "too many REQUEST_IN_PROGRESS (" + std::to_string(keepalives) + " in " + std::to_string(elapsed) +
                        " s) while waiting for " + waited_for);
                co_return std::nullopt;
            }
            if (keepalive_extends) deadline = std::min(Clock::now() + timeout, hard_limit);
            // Let the loop turn between keep-alives.
            const auto executor = co_await asio::this_coro::executor;
            co_await asio::post(executor, asio::use_awaitable);
            continue;
        }
        if (!r.message.is(expected)) {
            end(reason::kInvalidElement, "failed", garbled,
                "unexpected " + command_name(r.message.command()) + " while waiting for " + waited_for);
            co_return std::nullopt;
        }
        co_return std::move(r.message);
    }
}

void ServerSession::fail_operation(const Operation& op, OperationState state, const std::string& why) {
    // Losing this write only loses the error text; the operation stays open either way.
    (void)ctx().store.set_operation_state(op.id, state, why);
}

// A fault on our side ended the session: END_SESSION(7) like any failure (the phone
// knows no other code), but the outcome says whose problem it is.
void ServerSession::end_server_error(const Error& error) {
    end(reason::kInvalidElement, "failed", SessionCause::Server,
        std::string("server error (") + to_string(error.kind) + "): " + error.message);
}

// The operation's first request to the phone; for an install the key it asks for.
std::optional<Message> ServerSession::first_request(const Operation& op) {
    switch (op.request.kind) {
        case OperationKind::Fetch: return Message(Command::FetchCertificateRequest, sid_);
        case OperationKind::Delete: return Message(Command::DeleteCertificateRequest, sid_);
        case OperationKind::None: return std::nullopt;
        case OperationKind::Install: break;
    }
    const KeySpec& spec = op.request.key;
    Message req(Command::KeyGenerateRequest, sid_);
    if (spec.type == KeyType::Rsa) {
        req.add_u16(Tag::KeySize, static_cast<std::uint16_t>(spec.rsa_bits)).add_u8(Tag::KeyType, key_type::kRsa);
    } else {
        if (phone_version_ < 3) {
            fail_operation(op, OperationState::Pending, "EC keys need CAPF protocol version 3; phone sent " + std::to_string(phone_version_));
            end(reason::kInvalidElement, "failed", SessionCause::KeyRefused,
                "EC key requested from a version " + std::to_string(phone_version_) + " client");
            return std::nullopt;
        }
        req.add_u8(Tag::KeyType, key_type::kEc).add_u8(Tag::Curve, static_cast<std::uint8_t>(curve_wire_code(spec.curve)));
    }
    return req;
}

// KEY_GENERATE_RESPONSE to STORE_CERTIFICATE_REQUEST: the key checked against the
// request, the LSC signed and recorded (unconfirmed) before it may leave the
// server: a phone must never hold an LSC the registry does not know, whatever
// happens between its "stored" answer and our commit (SIGKILL, a locked or full
// database). No record, no send.
std::optional<Message> ServerSession::issue(const Operation& op, const Message& resp) {
    const KeySpec& spec = op.request.key;
    const Bytes* spki = resp.find(Tag::PublicKey);
    if (spki == nullptr) {
        const std::string why = "phone could not generate a key (REASON " + reason_text(resp) + ")";
        fail_operation(op, OperationState::Pending, why);
        end(reason::kInvalidElement, "failed", SessionCause::KeyRefused, why);
        return std::nullopt;
    }
    auto key = parse_subject_public_key_info(*spki);
    if (!key) {
        fail_operation(op, OperationState::Pending, "phone returned an unusable public key");
        end(reason::kInvalidElement, "failed", SessionCause::KeyRefused, "PUBLIC_KEY: " + key.message());
        return std::nullopt;
    }
    auto got = describe_spki(key->get());
    if (!got || !(*got == spec)) {
        const std::string why = "phone returned " + (got ? got->to_string() : got.message()) + " but " + spec.to_string() + " was requested";
        fail_operation(op, OperationState::Pending, why);
        end(reason::kInvalidElement, "failed", SessionCause::KeyRefused, why);
        return std::nullopt;
    }
    auto lsc = ctx().authority.issue_lsc(op.device_name, key->get(), ctx().settings.lsc_days);
    if (!lsc) {
        fail_operation(op, OperationState::Pending, "signing failed");
        end(reason::kInvalidElement, "failed", SessionCause::Server, lsc.message());
        return std::nullopt;
    }
    auto recorded = ctx().store.record_issued_lsc(op, lsc->get());
    if (!recorded) {
        fail_operation(op, OperationState::Pending, "LSC not recorded, so not sent: " + recorded.message());
        end(reason::kInvalidElement, "failed", SessionCause::Server, "LSC not recorded, so not sent: " + recorded.message());
        return std::nullopt;
    }
    cert_id_ = recorded->id;
    out_.serial = recorded->facts.serial_hex;
    Message store_req(Command::StoreCertificateRequest, sid_);
    store_req.add_u8(Tag::CertificateType, cert_type::kLsc)
        .add_bytes(Tag::Certificate, wrap_certificate(certificate_der(lsc->get()), cert_type::kLsc));
    return store_req;
}

asio::awaitable<void> ServerSession::install(const Operation& op, const Message& request) {
    const bool asked = co_await send(request);
    if (!asked) {
        close_silently(SessionCause::Connection, "write of KEY_GENERATE_REQUEST failed");
        co_await blocking([&] { fail_operation(op, OperationState::Pending, "connection lost before key generation"); });
        co_return;
    }
    auto resp = co_await await(Command::KeyGenerateResponse, env_.settings.keygen_timeout);
    if (!resp) {
        co_await blocking([&] { fail_operation(op, OperationState::Pending, "key generation not completed: " + out_.cause); });
        co_return;
    }
    std::optional<Message> store_req;
    const bool issued = co_await blocking([&] { store_req = issue(op, *resp); });
    if (!issued || !store_req) co_return;
    const bool delivered = co_await send(*store_req);
    if (!delivered) {
        close_silently(SessionCause::Connection, "write of STORE_CERTIFICATE_REQUEST failed");
        co_await blocking([&] {
            // A failed write delivered no complete message: the phone cannot hold it.
            (void)ctx().store.discard_unconfirmed_lsc(cert_id_, "STORE_CERTIFICATE_REQUEST could not be written");
            fail_operation(op, OperationState::Pending, "connection lost before the LSC was delivered");
        });
        co_return;
    }
    auto stored = co_await await(Command::StoreCertificateResponse, env_.settings.reply_timeout);
    if (!stored) {
        // The phone may or may not hold it: it stays unconfirmed (RADIUS accepts it
        // from the phone that holds its key) until a later session settles it.
        co_await blocking([&] {
            fail_operation(op, OperationState::Pending,
                           "LSC delivered but storage not confirmed (unconfirmed in the registry): " + out_.cause);
        });
        co_return;
    }
    co_await blocking([&] { settle_install(op, *stored); });
}

// The phone's answer to STORE_CERTIFICATE_REQUEST: only now may the LSC become active.
void ServerSession::settle_install(const Operation& op, const Message& stored) {
    if (!phone_succeeded(stored)) {
        const std::string why = "phone failed to store the LSC (REASON " + reason_text(stored) + ")";
        (void)ctx().store.discard_unconfirmed_lsc(cert_id_, why);
        fail_operation(op, OperationState::Pending, why);
        out_.serial.clear();
        end(reason::kInvalidElement, "failed", SessionCause::PhoneRefused, why);
        return;
    }
    auto committed = ctx().store.confirm_issued_lsc(op, cert_id_);
    if (!committed) {
        // Still recorded as unconfirmed, so RADIUS accepts it; the operation stays open.
        fail_operation(op, OperationState::Pending, "LSC stored by the phone, left unconfirmed: " + committed.message());
        end(reason::kInvalidElement, "failed", SessionCause::Server,
            "LSC stored by the phone but not confirmed (recorded as unconfirmed): " + committed.message());
        return;
    }
    end(reason::kUpdateCertificate, "succeeded", SessionCause::None, "");
}

void ServerSession::settle_fetch(const Operation& op, const Message& resp) {
    const Bytes* wrapped = resp.find(Tag::Certificate);
    if (!phone_succeeded(resp) || wrapped == nullptr) {
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
    if (!ctx().trust.verify_lsc(cert->get(), now_utc()) &&
        (w->type == cert_type::kMic || ctx().trust.verify_mic(cert->get(), now_utc(), false)))
        kind = CertificateKind::Mic;
    if (auto s = ctx().store.commit_fetched_certificate(op, cert->get(), kind); !s) {
        end(reason::kInvalidElement, "failed", SessionCause::Server, "fetched certificate not recorded: " + s.message());
        return;
    }
    end(reason::kNoAction, "succeeded", SessionCause::None, std::string("fetched ") + std::string(to_string(kind)));
}

void ServerSession::settle_delete(const Operation& op, const Message& resp) {
    if (!phone_succeeded(resp)) {
        const std::string why = "phone did not delete its LSC (REASON " + reason_text(resp) + ")";
        fail_operation(op, OperationState::Pending, why);
        end(reason::kInvalidElement, "failed", SessionCause::PhoneRefused, why);
        return;
    }
    if (auto s = ctx().store.commit_deleted_lsc(op); !s) {
        end(reason::kInvalidElement, "failed", SessionCause::Server, "delete not recorded: " + s.message());
        return;
    }
    end(reason::kUpdateCertificate, "succeeded", SessionCause::None, "");
}

asio::awaitable<void> ServerSession::exchange(const Operation& op, const Message& request, Command expected,
                                              const char* what,
                                              void (ServerSession::*settle)(const Operation&, const Message&)) {
    const bool asked = co_await send(request);
    if (!asked) {
        close_silently(SessionCause::Connection, "write of " + command_name(request.command()) + " failed");
        co_await blocking([&] { fail_operation(op, OperationState::Pending, std::string("connection lost before ") + what); });
        co_return;
    }
    auto resp = co_await await(expected, env_.settings.reply_timeout);
    if (!resp) {
        co_await blocking([&] { fail_operation(op, OperationState::Pending, std::string(what) + " not completed: " + out_.cause); });
        co_return;
    }
    co_await blocking([&] { (this->*settle)(op, *resp); });
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
        auto allowed = ctx().store.reserve_auth_attempt(dev.id, ctx().settings.lockout_failures, ctx().settings.lockout_seconds);
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
    AuthVerdict verdict = authenticate_phone(ctx(), PhoneCredentials{auth, sent_name_, sid_}, dev, operation);
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
            if (auto r = ctx().store.release_auth_attempt(dev.id, ctx().settings.lockout_failures); r)
                why.message += " (not counted toward the lockout)";
            else
                why.message += " (the counted attempt could not be given back: " + r.message() + ")";
        }
        end_server_error(why);
        return false;
    }
    if (guessable || dev.auth_failures != 0 || dev.locked_until) {
        // A success that cannot clear the count would leave it standing as failures.
        if (auto c = ctx().store.clear_auth_failures(dev.id); !c) {
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
    auto claim = OperationClaim::take(ctx().store, operation.id, now_utc(), operation_claim_stale_seconds(ctx().settings));
    if (!claim) {
        end(reason::kInvalidElement, "failed", SessionCause::Server, "registry cannot be written: " + claim.message());
        return false;
    }
    if (!claim->has_value()) {
        end(reason::kInvalidElement, "failed", SessionCause::Busy,
            "operation " + std::to_string(operation.id) + " is already in progress in another CAPF session (or ended meanwhile)");
        return false;
    }
    claim_.emplace(std::move(**claim));
    return true;
}

// Everything between AUTH_RESPONSE and the operation's first request: the device,
// its lockout, its open operation, room in the registry, then admit().
std::optional<Operation> ServerSession::admit_operation(const Message& auth) {
    auto device = ctx().store.find_device(out_.device);
    if (!device) {
        end_server_error(fail(device.kind(), "registry unavailable: " + device.message()));
        return std::nullopt;
    }
    if (!device->has_value()) {
        end(reason::kUnknownDevice, "unknown-device", SessionCause::UnknownDevice, "device is not in the registry");
        return std::nullopt;
    }
    const Device& dev = **device;
    if (dev.locked_until && *dev.locked_until > now_utc()) {
        end(reason::kInvalidElement, "rejected", SessionCause::LockedOut,
            "device locked out until " + format_utc(*dev.locked_until) + " after repeated authentication failures");
        return std::nullopt;
    }
    auto op = ctx().store.open_operation(dev.id);
    if (!op) {
        end_server_error(fail(op.kind(), "registry unavailable: " + op.message()));
        return std::nullopt;
    }
    if (!op->has_value() || (*op)->request.kind == OperationKind::None) {
        out_.operation = "none";
        end(reason::kNoAction, "no-operation", SessionCause::NoOperation, "no operation pending");
        return std::nullopt;
    }
    const Operation& operation = **op;
    out_.operation = std::string(to_string(operation.request.kind));
    out_.auth_mode = std::string(to_string(operation.request.auth_mode));
    out_.operation_id = operation.id;

    // Everything below writes to the registry: on a (nearly) full disk, refuse
    // cleanly now rather than fail after a key or an LSC exists.
    if (auto room = ctx().store.check_free_space(kSessionMinFreeBytes); !room) {
        end(reason::kInvalidElement, "failed", SessionCause::Server, "registry cannot be written: " + room.message());
        return std::nullopt;
    }
    if (!admit(auth, dev, operation)) return std::nullopt;
    return operation;
}

asio::awaitable<void> ServerSession::converse() {
    Message hello(Command::AuthRequest, sid_);
    hello.add_u8(Tag::Version, kServerVersion).add_u8(Tag::AuthType, auth_type::kNone);
    const bool greeted = co_await send(hello);
    if (!greeted) {
        close_silently(SessionCause::Connection, "write of AUTH_REQUEST failed");
        co_return;
    }
    std::optional<Operation> op;
    std::optional<Message> request;
    {
        auto auth = co_await await(Command::AuthResponse, env_.settings.reply_timeout);
        if (!auth || !identify(*auth)) co_return;
        const bool ran = co_await blocking([&] {
            op = admit_operation(*auth);
            if (op) request = first_request(*op);
        });
        if (!ran || !request) co_return;
    }  // the AUTH_RESPONSE (certificates, proofs) is not kept through the key generation
    switch (op->request.kind) {
        case OperationKind::Install: co_await install(*op, *request); break;
        case OperationKind::Fetch:
            co_await exchange(*op, *request, Command::FetchCertificateResponse, "fetch", &ServerSession::settle_fetch);
            break;
        case OperationKind::Delete:
            co_await exchange(*op, *request, Command::DeleteCertificateResponse, "delete", &ServerSession::settle_delete);
            break;
        case OperationKind::None: break;
    }
}

asio::awaitable<SessionOutcome> ServerSession::run() {
    co_await converse();
    if (end_reason_) {
        Message m(Command::EndSession, sid_);
        m.add_u8(Tag::Reason, *end_reason_);
        (void)co_await send(m);  // a failed write changes nothing: we close either way (§10)
    }
    co_return out_;
}

// The sequential session's steps: inline, on the one registry connection it was given.
class InlineWork : public SessionWork {
public:
    explicit InlineWork(Store& store) : store_(store) {}
    asio::awaitable<Status> run(const std::function<void(Store&)>& step) override {
        step(store_);
        co_return Status{};
    }

private:
    Store& store_;
};

}  // namespace

asio::awaitable<SessionOutcome> serve_session(FrameChannel& channel, const SessionEnvironment& environment,
                                              std::uint32_t session_id) {
    ServerSession session(channel, environment, session_id);
    co_return co_await session.run();
}

SessionOutcome run_session(FrameChannel& channel, SessionContext& context, std::uint32_t session_id) {
    InlineWork work(context.store);
    const SessionEnvironment environment{context.authority, context.trust, context.settings, work};
    return run_sync(serve_session(channel, environment, session_id));
}

}  // namespace lscgate::capf
