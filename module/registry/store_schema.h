#pragma once

#include <array>
#include <string_view>

namespace lscgate {

// Migration N brings a database from PRAGMA user_version N to N+1. Never edit a
// shipped migration: append a new one.
inline constexpr std::array<std::string_view, 5> kStoreMigrations = {
    R"sql(
CREATE TABLE devices(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  model TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  security_profile TEXT NOT NULL DEFAULT '',
  auth_failures INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE operations(
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK(kind IN ('install','delete','fetch','none')),
  auth_mode TEXT NOT NULL CHECK(auth_mode IN ('null','string','lsc','mic','lsc-or-mic','mic-or-lsc')),
  auth_secret TEXT NOT NULL DEFAULT '',
  key_type TEXT NOT NULL CHECK(key_type IN ('rsa','ec')),
  rsa_bits INTEGER NOT NULL,
  ec_curve TEXT NOT NULL,
  completes_by INTEGER,
  state TEXT NOT NULL CHECK(state IN ('pending','in-progress','succeeded','failed','timed-out','cancelled')),
  last_error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE UNIQUE INDEX operations_one_open ON operations(device_id) WHERE state IN ('pending','in-progress');
CREATE TABLE certificates(
  id INTEGER PRIMARY KEY,
  device_name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK(kind IN ('lsc','mic')),
  serial TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  subject TEXT NOT NULL,
  issuer TEXT NOT NULL,
  issuer_oneline TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  key_type TEXT NOT NULL,
  key_bits INTEGER NOT NULL,
  pem TEXT NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('active','superseded','revoked','removed','fetched')),
  operation_id INTEGER,
  revoked_at INTEGER,
  revocation_reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX certificates_fingerprint ON certificates(fingerprint);
CREATE INDEX certificates_issuer_serial ON certificates(serial, issuer);
CREATE INDEX certificates_device ON certificates(device_name, status);
CREATE UNIQUE INDEX certificates_one_active_lsc ON certificates(device_name) WHERE kind = 'lsc' AND status = 'active';
CREATE TABLE capf_certificates(
  id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  subject TEXT NOT NULL,
  issuer TEXT NOT NULL,
  serial TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  pem TEXT NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('current','previous','retired')),
  created_at INTEGER NOT NULL
);
CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  device TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
)sql",
    // 2: certificates gain the status 'unconfirmed' (an LSC recorded before it is
    // sent to the phone, issue 7 item 4). SQLite cannot change a CHECK constraint
    // in place, so the table is rebuilt with the same columns and indexes.
    R"sql(
CREATE TABLE certificates_v2(
  id INTEGER PRIMARY KEY,
  device_name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK(kind IN ('lsc','mic')),
  serial TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  subject TEXT NOT NULL,
  issuer TEXT NOT NULL,
  issuer_oneline TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  key_type TEXT NOT NULL,
  key_bits INTEGER NOT NULL,
  pem TEXT NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('active','unconfirmed','superseded','revoked','removed','fetched')),
  operation_id INTEGER,
  revoked_at INTEGER,
  revocation_reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
INSERT INTO certificates_v2(id, device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, not_before,
                            not_after, key_type, key_bits, pem, status, operation_id, revoked_at, revocation_reason,
                            created_at)
  SELECT id, device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, not_before, not_after, key_type,
         key_bits, pem, status, operation_id, revoked_at, revocation_reason, created_at FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_v2 RENAME TO certificates;
CREATE UNIQUE INDEX certificates_fingerprint ON certificates(fingerprint);
CREATE INDEX certificates_issuer_serial ON certificates(serial, issuer);
CREATE INDEX certificates_device ON certificates(device_name, status);
CREATE UNIQUE INDEX certificates_one_active_lsc ON certificates(device_name) WHERE kind = 'lsc' AND status = 'active';
)sql",
    // 3: the tamper-evident audit trail (registry/audit_chain.h): every row gains
    // prev_hash and hash. The append-only trigger on UPDATE is dropped here so the
    // rows already present can be chained (in C++, by chain_existing_audit_rows in
    // sqlite_store.cpp, right after this text, in the same transaction), then
    // kStoreAuditChainFinish puts it back.
    R"sql(
DROP TRIGGER audit_no_update;
ALTER TABLE audit ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';
)sql",
    // 4: fleet operations (issue 10): each CAPF session's outcome (a bounded
    // table: `lscgate serve` keeps the newest [capf] session_history rows), and
    // rollouts in waves. rollout_devices.position keeps the input's order.
    R"sql(
CREATE TABLE capf_sessions(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  device TEXT NOT NULL DEFAULT '',
  operation_id INTEGER,
  operation TEXT NOT NULL DEFAULT '',
  auth_mode TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL,
  cause_class TEXT NOT NULL DEFAULT '',
  cause TEXT NOT NULL DEFAULT '',
  peer TEXT NOT NULL DEFAULT '',
  serial TEXT NOT NULL DEFAULT '',
  duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX capf_sessions_device ON capf_sessions(device, id);
CREATE INDEX capf_sessions_operation ON capf_sessions(operation_id, id);
CREATE TABLE rollouts(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK(kind IN ('install','delete','fetch')),
  auth_mode TEXT NOT NULL CHECK(auth_mode IN ('null','string','lsc','mic','lsc-or-mic','mic-or-lsc')),
  auth_secret TEXT NOT NULL DEFAULT '',
  generate_strings INTEGER NOT NULL DEFAULT 0,
  key_type TEXT NOT NULL CHECK(key_type IN ('rsa','ec')),
  rsa_bits INTEGER NOT NULL,
  ec_curve TEXT NOT NULL,
  by_seconds INTEGER,
  wave_size INTEGER NOT NULL CHECK(wave_size > 0),
  waves INTEGER NOT NULL,
  next_wave INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE rollout_waves(
  rollout_id INTEGER NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
  wave INTEGER NOT NULL,
  scheduled_at INTEGER,
  completes_by INTEGER,
  PRIMARY KEY(rollout_id, wave)
);
CREATE TABLE rollout_devices(
  rollout_id INTEGER NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  wave INTEGER NOT NULL,
  device TEXT NOT NULL,
  operation_id INTEGER,
  skipped TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(rollout_id, device)
);
CREATE INDEX rollout_devices_wave ON rollout_devices(rollout_id, wave, position);
)sql",
    // 5: web administration (issue 14): the accounts that may sign in to
    // `lscgate web`, each with its role, its Argon2id password hash and its
    // sign-in lockout (failed_logins, locked_until).
    R"sql(
CREATE TABLE web_accounts(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK(role IN ('admin','helpdesk')),
  password_hash TEXT NOT NULL,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql",
};

/// The version whose migration chains the audit rows already present: after
/// kStoreMigrations[kStoreAuditChainVersion - 1] the migrator computes every
/// row's hash, then runs kStoreAuditChainFinish.
inline constexpr int kStoreAuditChainVersion = 3;
inline constexpr std::string_view kStoreAuditChainFinish = R"sql(
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
)sql";

}  // namespace lscgate
