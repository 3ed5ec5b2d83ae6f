#!/usr/bin/env bash
# The e2e tests run under `set -euo pipefail` (tests/e2e/lib.sh). A pipeline
# that ends in a reader which stops early (`head`, `grep -q`, `grep -m`) makes
# the writer die of SIGPIPE when it still has output, and pipefail turns that
# into a failure: the whole test ends at that line, or an `if` takes the wrong
# branch, depending on timing (a loaded machine). This check refuses such a
# pipeline outside a $(…) whose status is not used. Use `sed -n '1,Np'` (reads
# everything) or capture the output first and grep the variable (<<<).
set -u
cd "$(dirname "$0")/../.."
hits=$(grep -nE '\|[[:space:]]*(head([[:space:]]|$)|grep[[:space:]]+(-[a-zA-Z]*[qm]))' tests/e2e/*.sh | grep -vE '^\S+:[0-9]+:\s*#' |
    grep -vE '\$\([^)]*\|[[:space:]]*head' || true)
if [ -n "$hits" ]; then
    echo "pipes: a pipeline into an early-exiting reader under pipefail (see this file's comment):"
    echo "$hits"
    exit 1
fi
echo "pipes: no pipeline into head / grep -q / grep -m in tests/e2e: ok"
