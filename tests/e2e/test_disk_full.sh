#!/usr/bin/env bash
# A full disk: the registry's write-ahead log is checkpointed so it stays small
# (300 phones enroll on a 2 MiB file system), a CAPF session that cannot be
# recorded is refused cleanly (END_SESSION, logged, no LSC handed out), and the
# server resumes by itself when space returns — without a restart, and after one.
source "$(dirname "$0")/lib.sh"

# The registry lives on its own 2 MiB tmpfs (root is needed to mount it; tests
# run as root in CI). Exit code 77 tells ctest the test was skipped.
FS=$(mktemp -d "$E2E_ROOT/disk-full-fs.XXXXXX")
if ! mount -t tmpfs -o size=2m,mode=0755 tmpfs "$FS" 2>"$WORK/mount.err"; then
    echo "SKIP: cannot mount a 2 MiB tmpfs at $FS ($(cat "$WORK/mount.err")); this test needs root"
    rmdir "$FS"
    exit 77
fi
trap 'e2e_cleanup; umount "$FS" 2>/dev/null; rmdir "$FS" 2>/dev/null' EXIT

CAPF_DIR=$FS/capf
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
names() { python3 -c "print(' '.join('SEP%012X' % ($1 + i) for i in range($2)))"; }
fill_disk() { dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null || true; sync; }
wal_kb() { echo $(( $(stat -c %s "$CAPF_DIR/lscgate.db-wal" 2>/dev/null || echo 0) / 1024 )); }
# wait_log PATTERN COUNT: until the CAPF log has COUNT lines matching PATTERN (bounded).
wait_log() {
    for _ in $(seq 1 600); do
        [ "$(grep -c -- "$1" "$CAPF_LOG" || true)" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

expect_rc 0 "init on a 2 MiB file system" -- "$LSCGATE" init --dir "$CAPF_DIR"
# shellcheck disable=SC2046
expect_rc 0 "add 300 devices" -- adm device add $(names 0x200000 300)
# shellcheck disable=SC2046
expect_rc 0 "schedule 300 installs" -- adm op install $(names 0x200000 300) --key ec:p256
start_capf "$CAPF_DIR"

expect_rc 0 "300 phones enroll on 2 MiB" -- "$LSCGATE" phone --server "127.0.0.1:$CAPF_PORT" --capf-cert "$CAPF_DIR/capf.crt" \
    --name SEP000000200000 --out "$WORK/phones" --count 300 --concurrency 4
expect_contains "$OUT" "succeeded=300" "every phone got its LSC"
expect_eq "$(sql "$CAPF_DIR/lscgate.db" "SELECT count(*) FROM certificates WHERE status='active'")" 300 "300 active LSCs recorded"
wal=$(wal_kb)
if [ "$wal" -le 1100 ]; then pass "the WAL stays small (${wal} KB)"; else failed "the WAL grew to ${wal} KB"; fi

# Fill the disk, then re-key phones: every session is refused before anything is issued.
# shellcheck disable=SC2046
expect_rc 0 "schedule 20 re-keys" -- adm op install $(names 0x200000 20) --key ec:p256
fill_disk
serial_before=$(openssl x509 -in "$WORK/phones/SEP000000200000.lsc.pem" -noout -serial)
expect_rc 2 "a session on a full disk is refused" -- phone SEP000000200000
expect_contains "$OUT" "END_SESSION(7)" "the phone is told (END_SESSION)"
expect_eq "$(openssl x509 -in "$WORK/phones/SEP000000200000.lsc.pem" -noout -serial)" "$serial_before" \
    "the phone keeps its LSC: nothing was issued"
wait_log "device=SEP000000200000 .*result=failed" 1 || true
expect_contains "$(grep "device=SEP000000200000" "$CAPF_LOG" | tail -1)" "registry cannot be written" "the log says why"
expect_contains "$(grep "device=SEP000000200000" "$CAPF_LOG" | tail -1)" "free on the registry's file system" "and names the cause"
expect_rc 2 "19 more sessions on a full disk are refused" -- "$LSCGATE" phone --server "127.0.0.1:$CAPF_PORT" \
    --capf-cert "$CAPF_DIR/capf.crt" --name SEP000000200001 --out "$WORK/phones" --count 19 --concurrency 4
expect_contains "$OUT" "succeeded=0 refused=19" "all refused"
expect_rc 0 "the server is still running" -- kill -0 "$CAPF_PID"

# Space returns: the sessions succeed without a restart.
rm -f "$FS/filler"
expect_rc 0 "after space returns the 20 re-keys succeed without a restart" -- "$LSCGATE" phone --server "127.0.0.1:$CAPF_PORT" \
    --capf-cert "$CAPF_DIR/capf.crt" --name SEP000000200000 --out "$WORK/phones" --count 20 --concurrency 4
expect_contains "$OUT" "succeeded=20" "all 20 re-keyed"
# Whatever happened on the way, every LSC a phone holds is the one the registry has active.
unrecorded=0
for n in $(names 0x200000 20); do
    serial=$(openssl x509 -in "$WORK/phones/$n.lsc.pem" -noout -serial | cut -d= -f2)
    [ "$(sql "$CAPF_DIR/lscgate.db" "SELECT count(*) FROM certificates WHERE device_name='$n' AND serial='$serial' AND status IN ('active','unconfirmed')")" = 1 ] \
        || unrecorded=$((unrecorded + 1))
done
expect_eq "$unrecorded" 0 "no phone holds an LSC the registry does not have active"

# A restart on a full disk, then space returns: the server comes back by itself.
expect_rc 0 "schedule another re-key" -- adm op install SEP000000200001 --key ec:p256
fill_disk
stop_capf
start_capf "$CAPF_DIR"
# Stopping may have freed space (the last connection's checkpoint removes the WAL),
# and how much depends on timing: fill again, so the session meets a full disk.
fill_disk
expect_rc 2 "after a restart on a full disk the session is refused" -- phone SEP000000200001
rm -f "$FS/filler"
expect_rc 0 "and succeeds once space returns" -- phone SEP000000200001
stop_capf

finish
