#!/usr/bin/env bash
# lscgate serve --metrics (issue 10 item 7): the endpoint scraped over HTTP and
# parsed as Prometheus text format by the reference client's parser
# (python3-prometheus-client), after two enrolments, a wrong authentication
# string, an unknown device and a phone that never finishes the TLS handshake.
source "$(dirname "$0")/lib.sh"

CAPF_DIR=$WORK/capf
adm() { "$LSCGATE" --dir "$CAPF_DIR" "$@"; }
adm init >/dev/null
adm device add SEP0000000010A1 SEP0000000010A2 SEP0000000010A3 >/dev/null
adm op install SEP0000000010A1 SEP0000000010A2 --auth null --key ec:p256 >/dev/null 2>&1
adm op install SEP0000000010A3 --auth string:13572468 >/dev/null 2>&1
METRICS_PORT=$(free_port)
start_capf "$CAPF_DIR" --metrics "127.0.0.1:$METRICS_PORT"
expect_contains "$(cat "$CAPF_LOG")" "metrics on http://127.0.0.1:$METRICS_PORT/metrics" "serve says where the metrics are"

expect_rc 0 "SEP0000000010A1 enrols" -- phone SEP0000000010A1
expect_rc 0 "SEP0000000010A2 enrols" -- phone SEP0000000010A2
expect_rc 2 "SEP0000000010A3 with a wrong string is rejected" -- phone SEP0000000010A3 --auth-string 11111111
expect_failure "an unknown device" -- phone SEP0000000010FF
# A connection that sends no TLS at all: the handshake fails (result "closed").
python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(b"GET / HTTP/1.0\r\n\r\n"); s.recv(100)' "$CAPF_PORT" || true
wait_log "$CAPF_LOG" "result=closed"

# scrape: every sample as JSON {name{labels}: value}, by the Prometheus client's own parser.
# Debian's python3 (python3-prometheus-client), whatever python3 comes first on PATH.
scrape() { /usr/bin/python3 - "$METRICS_PORT" <<'PY'
import sys, urllib.request, json
from prometheus_client.parser import text_string_to_metric_families
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=10).read().decode()
out = {}
for family in text_string_to_metric_families(text):
    for s in family.samples:
        out[s.name + json.dumps(dict(sorted(s.labels.items())), separators=(",", ":"))] = s.value
print(json.dumps(out))
PY
}
expect_rc 0 "the endpoint parses as Prometheus text format" -- scrape
SCRAPED=$OUT
# metric 'NAME{"label":"value",...}': one sample's value ("absent" if none).
metric() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); v=d.get(sys.argv[2]); print("absent" if v is None else (int(v) if float(v).is_integer() else round(v, 1)))' "$SCRAPED" "$1"; }
expect_eq "$(metric 'lscgate_capf_sessions_total{"cause":"none","operation":"install","result":"succeeded"}')" 2 "sessions: 2 install succeeded (cause none)"
expect_eq "$(metric 'lscgate_capf_sessions_total{"cause":"wrong-string","operation":"install","result":"rejected"}')" 1 "sessions: 1 install rejected, cause wrong-string"
expect_eq "$(metric 'lscgate_capf_sessions_total{"cause":"unknown-device","operation":"none","result":"unknown-device"}')" 1 "sessions: 1 unknown device, cause unknown-device"
expect_eq "$(metric 'lscgate_capf_sessions_total{"cause":"connection","operation":"none","result":"closed"}')" 1 "sessions: 1 closed in the TLS handshake, cause connection"
# Every session sample carries a cause label (the class, "none" only when succeeded).
expect_eq "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(sum(1 for k in d if k.startswith("lscgate_capf_sessions_total{") and "\"cause\":" not in k))' "$SCRAPED")" 0 "every sessions sample has a cause label"
expect_eq "$(metric 'lscgate_capf_sessions_in_progress{}')" 0 "no session in progress"
expect_eq "$(metric 'lscgate_capf_enrollment_duration_seconds_count{}')" 2 "enrolment latency: 2 observations"
expect_eq "$(metric 'lscgate_capf_enrollment_duration_seconds_bucket{"le":"+Inf"}')" 2 "enrolment latency: +Inf bucket"
expect_eq "$(metric 'lscgate_registry_up{}')" 1 "the registry was read"
expect_eq "$(metric 'lscgate_lscs{"status":"active"}')" 2 "LSCs: 2 active (as the registry says: $(sql "$CAPF_DIR/lscgate.db" "SELECT count(*) FROM certificates WHERE status='active' AND kind='lsc'"))"
expect_eq "$(metric 'lscgate_lscs{"status":"revoked"}')" 0 "LSCs: 0 revoked"
capf_days=$(metric 'lscgate_capf_certificate_expiry_days{}')
expect_rc 0 "CAPF expiry in days ($capf_days) about 10 years" -- python3 -c "import sys; sys.exit(0 if 3640 < float('$capf_days') <= 3650 else 1)"
lsc_days=$(metric 'lscgate_lsc_earliest_expiry_days{}')
expect_rc 0 "earliest LSC expiry in days ($lsc_days) about lsc_days = 365" -- python3 -c "import sys; sys.exit(0 if 364 < float('$lsc_days') <= 365.01 else 1)"

# A second serve on the same metrics port: a clear error, not a crash.
expect_rc 1 "--metrics on a port in use" -- "$LSCGATE" --dir "$CAPF_DIR" serve --listen "127.0.0.1:$(free_port)" --metrics "127.0.0.1:$METRICS_PORT"
expect_contains "$OUT" "cannot listen" "the error says so"
stop_capf
finish
