// Drives the server-side CAPF session with arbitrary phone input against a real
// (in-memory) registry. The session id is fixed so the fuzzer can get past the
// id check; the first input byte picks the pending operation and auth mode.

#include "registry/sqlite_handles.h"
#include "../unit/test_support.h"
#include "capf/frame_channel.h"
#include "capf/memory_stream.h"
#include "capf/session.h"
#include "pki/auth_secret.h"
#include "pki/trust_set.h"

#include <cstddef>
#include <cstdint>

using namespace lscgate;
using namespace lscgate::capf;

namespace {

struct World {
    Store store = test::make_store(":memory:");
    test::TestCa capf = test::make_root_ca("CN=CAPF-FUZZ,O=lscgate");
    test::TestCa mic_root = test::make_root_ca("CN=Fuzz Manufacturing CA");
    CapfAuthority authority = test::authority_from(capf);
    TrustSet trust = *TrustSet::build({capf.cert.get()}, {mic_root.cert.get()});
    std::string secret = *hash_auth_string("123456");
};

World& world() {
    static World w = [] {
        World made;
        (void)made.store.add_device("SEP001122334455", "", "", "fuzz");
        return made;
    }();
    return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    World& w = world();
    Store* store = &w.store;
    // Everything one input does happens inside a transaction that is rolled back
    // at the end, so each input starts from the same registry (and it is fast).
    auto scope = SqliteTransaction::begin(store->database());
    if (!scope) __builtin_trap();
    OperationRequest req;
    req.kind = static_cast<OperationKind>(data[0] % 4);
    req.auth_mode = static_cast<AuthMode>(((data[0] >> 2) & 0x7) % 6);
    req.key = (data[0] & 0x80) ? KeySpec{KeyType::Ec, 0, EcCurve::P256} : KeySpec{KeyType::Rsa, 1024, EcCurve::P256};
    if (req.auth_mode == AuthMode::String) req.auth_secret_hash = w.secret;
    (void)store->schedule_operation("SEP001122334455", req, "fuzz");

    MemoryStream stream;
    const ByteView rest(data + 1, size - 1);
    // Split at a data-dependent point so header/body boundaries vary.
    const std::size_t cut = rest.empty() ? 0 : rest[0] % (rest.size() + 1);
    stream.push(rest.subspan(0, cut));
    stream.push(rest.subspan(cut));
    FrameChannel channel(stream);
    SessionSettings settings;
    settings.reply_timeout = std::chrono::milliseconds(5);
    settings.keygen_timeout = std::chrono::milliseconds(5);
    SessionContext ctx{*store, w.authority, w.trust, settings};
    const SessionOutcome out = run_session(channel, ctx, 1);
    // Invariant: an LSC is active only if the phone confirmed storage, which
    // needs a STORE_CERTIFICATE_RESPONSE; the session's result must say so.
    auto lsc = store->active_lsc("SEP001122334455");
    if (lsc && lsc->has_value() && out.result != "succeeded") __builtin_trap();
    return 0;
}
