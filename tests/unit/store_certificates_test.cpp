// The registry writer's certificates: an issued LSC supersedes the previous one
// in one transaction, is recorded before it is sent and confirmed (or proven by
// possession) after, fetched and deleted LSCs, revocation by device and serial,
// and the CAPF certificates' rotation. Runs on both backends (ctest names end in
// /sqlite or /postgresql; store_backends_fixture.h).

#include "pki/certificate.h"
#include "registry/store.h"
#include "store_backends_fixture.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <string>

using namespace lscgate;
using lscgate::test::backend_name;
using lscgate::test::StoreOnBackends;

namespace {

INSTANTIATE_TEST_SUITE_P(Backends, StoreOnBackends, ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         backend_name);

TEST_P(StoreOnBackends, IssuingSupersedesThePreviousLscInOneTransaction) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto op1 = schedule("SEP000000000001");
    auto first = lsc_for("SEP000000000001");
    auto rec1 = store.commit_issued_lsc(op1, first.get());
    ASSERT_TRUE(rec1) << rec1.message();
    EXPECT_EQ(rec1->status, CertificateStatus::Active);
    auto op2 = schedule("SEP000000000001");
    auto second = lsc_for("SEP000000000001");
    auto rec2 = store.commit_issued_lsc(op2, second.get());
    ASSERT_TRUE(rec2);
    auto certs = store.list_certificates(std::string("SEP000000000001"));
    ASSERT_TRUE(certs);
    ASSERT_EQ(certs->size(), 2u);
    EXPECT_EQ((*certs)[0].status, CertificateStatus::Superseded);
    EXPECT_EQ((*certs)[1].status, CertificateStatus::Active);
    EXPECT_EQ((*certs)[1].facts.serial_hex, describe_certificate(second.get())->serial_hex);
    auto active = store.active_lsc("SEP000000000001");
    ASSERT_TRUE(active && active->has_value());
    EXPECT_EQ((*active)->facts.sha256, rec2->facts.sha256);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='succeeded'"), 2);
}

TEST_P(StoreOnBackends, AFailedCommitLeavesNoHalfWrittenRows) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto op = schedule("SEP000000000001");
    auto cert = lsc_for("SEP000000000001");
    ASSERT_TRUE(store.commit_issued_lsc(op, cert.get()));
    // The same operation again: the certificate insert collides (same fingerprint)
    // after the supersede step already ran; everything must roll back.
    auto again = store.commit_issued_lsc(op, cert.get());
    ASSERT_FALSE(again);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM certificates"), 1);
    // An LSC the phone stored for an operation closed meanwhile (cancelled, replaced)
    // is recorded all the same: the phone holds it. The operation keeps its state.
    auto other = lsc_for("SEP000000000001");
    auto closed = store.commit_issued_lsc(op, other.get());
    ASSERT_TRUE(closed) << closed.message();
    EXPECT_EQ(count("SELECT count(*) FROM certificates"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='succeeded'"), 1);
}

// =============================================================================
// An issued LSC is recorded before it is sent (issue 7 item 4)

TEST_P(StoreOnBackends, IssuedLscIsUnconfirmedUntilThePhoneConfirmsIt) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto old_op = schedule("SEP000000000001");
    auto old_lsc = lsc_for("SEP000000000001");
    ASSERT_TRUE(store.commit_issued_lsc(old_op, old_lsc.get()));
    auto op = schedule("SEP000000000001");
    auto cert = lsc_for("SEP000000000001");
    auto rec = store.record_issued_lsc(op, cert.get());
    ASSERT_TRUE(rec) << rec.message();
    EXPECT_EQ(rec->status, CertificateStatus::Unconfirmed);
    EXPECT_EQ(rec->facts.sha256, describe_certificate(cert.get())->sha256);
    // Recorded, not active: the previous LSC stays the active one, the operation open.
    auto active = store.active_lsc("SEP000000000001");
    ASSERT_TRUE(active && active->has_value());
    EXPECT_EQ((*active)->facts.sha256, describe_certificate(old_lsc.get())->sha256);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='unconfirmed'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='pending'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='lsc.record'"), 2);
    // The list shows it as unconfirmed.
    auto listed = store.list_certificates(std::string("SEP000000000001"));
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ((*listed)[1].status, CertificateStatus::Unconfirmed);

    auto confirmed = store.confirm_issued_lsc(op, rec->id);
    ASSERT_TRUE(confirmed) << confirmed.message();
    EXPECT_EQ(confirmed->status, CertificateStatus::Active);
    active = store.active_lsc("SEP000000000001");
    ASSERT_TRUE(active && active->has_value());
    EXPECT_EQ((*active)->id, rec->id);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='superseded'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='succeeded'"), 2);
    // Confirming twice changes nothing.
    ASSERT_TRUE(store.confirm_issued_lsc(op, rec->id));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
}

TEST_P(StoreOnBackends, ConfirmingAnLscSupersedesStaleUnconfirmedOnes) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    ASSERT_TRUE(store.add_device("SEP000000000002", "", "", "test"));
    auto first = store.record_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get());
    auto neighbour = store.record_issued_lsc(schedule("SEP000000000002"), lsc_for("SEP000000000002").get());
    ASSERT_TRUE(first && neighbour);
    auto op = schedule("SEP000000000001");
    auto second = store.record_issued_lsc(op, lsc_for("SEP000000000001").get());
    ASSERT_TRUE(second);
    ASSERT_TRUE(store.confirm_issued_lsc(op, second->id));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE device_name='SEP000000000001' AND status='superseded'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE device_name='SEP000000000001' AND status='active'"), 1);
    // Another device's unconfirmed LSC is not touched.
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE device_name='SEP000000000002' AND status='unconfirmed'"), 1);
    // A superseded LSC cannot be confirmed any more.
    auto late = store.confirm_issued_lsc(op, first->id);
    ASSERT_FALSE(late);
    EXPECT_NE(late.message().find("superseded"), std::string::npos) << late.message();
}

TEST_P(StoreOnBackends, DiscardDeletesOnlyAnUnconfirmedLsc) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto op = schedule("SEP000000000001");
    auto rec = store.record_issued_lsc(op, lsc_for("SEP000000000001").get());
    ASSERT_TRUE(rec);
    ASSERT_TRUE(store.discard_unconfirmed_lsc(rec->id, "phone refused it"));
    EXPECT_EQ(count("SELECT count(*) FROM certificates"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='lsc.discard' AND detail LIKE '%phone refused it%'"), 1);
    auto active = store.commit_issued_lsc(op, lsc_for("SEP000000000001").get());
    ASSERT_TRUE(active);
    ASSERT_TRUE(store.discard_unconfirmed_lsc(active->id, "too late"));  // active: left alone
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
}

TEST_P(StoreOnBackends, ProofOfPossessionMakesAnUnconfirmedLscActiveUnlessANewerOneIs) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto old_active = store.commit_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get());
    auto held = store.record_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get());
    ASSERT_TRUE(old_active && held);
    auto proven = store.confirm_lsc_by_possession(held->id);
    ASSERT_TRUE(proven) << proven.message();
    EXPECT_EQ(proven->status, CertificateStatus::Active);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='superseded'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE detail LIKE '%proof of possession%'"), 1);
    // An unconfirmed row older than the active LSC (hand-edited, or an older
    // lscgate) is stale: refused, and marked superseded.
    auto newer = store.commit_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get());
    ASSERT_TRUE(newer);
    ASSERT_TRUE(exec("UPDATE certificates SET status='unconfirmed' WHERE id=" + std::to_string(held->id)));
    auto stale = store.confirm_lsc_by_possession(held->id);
    ASSERT_FALSE(stale);
    EXPECT_NE(stale.message().find("older than the active LSC"), std::string::npos) << stale.message();
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='unconfirmed'"), 0);
    auto active = store.active_lsc("SEP000000000001");
    ASSERT_TRUE(active && active->has_value());
    EXPECT_EQ((*active)->id, newer->id);
}

TEST_P(StoreOnBackends, RevokingOrDeletingADevicesLscCoversItsUnconfirmedOnes) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    ASSERT_TRUE(store.add_device("SEP000000000002", "", "", "test"));
    auto active = store.commit_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get());
    ASSERT_TRUE(active);
    ASSERT_TRUE(store.record_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get()));
    auto r = store.revoke_active_lsc("SEP000000000001", "key-compromise", "test");
    ASSERT_TRUE(r) << r.message();
    EXPECT_EQ(r->id, active->id) << "the active one is reported";
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE device_name='SEP000000000001' AND status='revoked'"), 2);
    // Only an unconfirmed one: it is what gets revoked.
    auto only = store.record_issued_lsc(schedule("SEP000000000002"), lsc_for("SEP000000000002").get());
    ASSERT_TRUE(only);
    auto r2 = store.revoke_active_lsc("SEP000000000002", "unspecified", "test");
    ASSERT_TRUE(r2) << r2.message();
    EXPECT_EQ(r2->id, only->id);
    // A delete operation removes whatever the phone held, unconfirmed included.
    ASSERT_TRUE(store.record_issued_lsc(schedule("SEP000000000002"), lsc_for("SEP000000000002").get()));
    ASSERT_TRUE(store.commit_deleted_lsc(schedule("SEP000000000002", OperationKind::Delete)));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='unconfirmed'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE device_name='SEP000000000002' AND status='removed'"), 1);
}

// =============================================================================
// Fetched and deleted LSCs, revocation

TEST_P(StoreOnBackends, DeleteAndFetchOutcomes) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto install = schedule("SEP000000000001");
    auto cert = lsc_for("SEP000000000001");
    ASSERT_TRUE(store.commit_issued_lsc(install, cert.get()));
    auto fetch = schedule("SEP000000000001", OperationKind::Fetch);
    ASSERT_TRUE(store.commit_fetched_certificate(fetch, cert.get(), CertificateKind::Lsc));
    EXPECT_EQ(count("SELECT count(*) FROM certificates"), 1);  // already known: not duplicated
    auto mic_root = test::make_root_ca("CN=Mfg");
    auto mic_key = test::make_key("rsa:2048");
    auto mic = test::make_leaf(mic_root, mic_key.get(), "CN=CP-8841-SEP000000000001");
    auto fetch2 = schedule("SEP000000000001", OperationKind::Fetch);
    ASSERT_TRUE(store.commit_fetched_certificate(fetch2, mic.get(), CertificateKind::Mic));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE kind='mic' AND status='fetched'"), 1);
    auto del = schedule("SEP000000000001", OperationKind::Delete);
    ASSERT_TRUE(store.commit_deleted_lsc(del));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='removed'"), 1);
    auto active = store.active_lsc("SEP000000000001");
    ASSERT_TRUE(active);
    EXPECT_FALSE(active->has_value());
}

TEST_P(StoreOnBackends, RevokeByDeviceAndBySerial) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    ASSERT_TRUE(store.add_device("SEP000000000002", "", "", "test"));
    auto a = lsc_for("SEP000000000001");
    auto b = lsc_for("SEP000000000002");
    ASSERT_TRUE(store.commit_issued_lsc(schedule("SEP000000000001"), a.get()));
    ASSERT_TRUE(store.commit_issued_lsc(schedule("SEP000000000002"), b.get()));
    auto r1 = store.revoke_active_lsc("SEP000000000001", "key-compromise", "test");
    ASSERT_TRUE(r1) << r1.message();
    EXPECT_EQ(r1->status, CertificateStatus::Revoked);
    EXPECT_EQ(r1->revocation_reason, "key-compromise");
    auto again = store.revoke_active_lsc("SEP000000000001", "unspecified", "test");
    ASSERT_FALSE(again);
    EXPECT_NE(again.message().find("no active LSC"), std::string::npos);
    const std::string serial_b = describe_certificate(b.get())->serial_hex;
    ASSERT_TRUE(store.revoke_serial(serial_b, "superseded", "test"));
    EXPECT_FALSE(store.revoke_serial(serial_b, "superseded", "test"));
    EXPECT_FALSE(store.revoke_serial("ABCDEF", "unspecified", "test"));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='revoked' AND revoked_at IS NOT NULL"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='certificate.revoke'"), 2);
}

// =============================================================================
// The CAPF certificates

TEST_P(StoreOnBackends, CapfRotationKeepsThePreviousCertificate) {
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    auto next = test::make_root_ca("CN=CAPF-next,O=Example");
    ASSERT_TRUE(store.add_capf_certificate(next.cert.get(), "test"));
    auto list = store.list_capf_certificates();
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].status, CapfStatus::Current);
    EXPECT_EQ((*list)[0].facts.subject, "CN=CAPF-next,O=Example");
    EXPECT_EQ((*list)[1].status, CapfStatus::Previous);
    // Re-adding the old one makes it current again without duplicating it.
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    list = store.list_capf_certificates();
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].facts.subject, "CN=CAPF-store,O=Example");
}

TEST_P(StoreOnBackends, RetiringAPreviousCapfCertificate) {
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    auto next = test::make_root_ca("CN=CAPF-next,O=Example");
    ASSERT_TRUE(store.add_capf_certificate(next.cert.get(), "test"));
    const std::string old_fp = describe_certificate(capf.cert.get())->sha256;
    const std::string new_fp = describe_certificate(next.cert.get())->sha256;
    auto current = store.retire_capf_certificate(new_fp, "test");
    ASSERT_FALSE(current);
    EXPECT_NE(current.message().find("current"), std::string::npos);
    EXPECT_FALSE(store.retire_capf_certificate("ABC", "test"));       // too short to be sure
    EXPECT_FALSE(store.retire_capf_certificate("00000000", "test"));  // no such certificate (almost surely)
    auto retired = store.retire_capf_certificate(old_fp.substr(0, 12), "test");
    ASSERT_TRUE(retired) << retired.message();
    EXPECT_EQ(retired->status, CapfStatus::Retired);
    EXPECT_EQ(count("SELECT count(*) FROM capf_certificates WHERE status='retired'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='capf.retire'"), 1);
    EXPECT_FALSE(store.retire_capf_certificate(old_fp, "test"));  // already retired
}

}  // namespace
