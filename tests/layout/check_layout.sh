#!/usr/bin/env bash
# The dependency direction of module/ (issue 8): pki <- registry <- decide,
# capf -> registry (not decide), freeradius -> decide, fleet -> registry, coa -> registry. The linker refuses a
# missing library, but a header-only include would slip through: this check
# greps the includes. Prints each offending line and fails if there is one.
set -u
cd "$(dirname "$0")/../.."
bad=0
refuse() {  # refuse DIR PATTERN WHY
    local hits
    hits=$(grep -rnE "#include \"($2)/" "module/$1" 2>/dev/null)
    if [ -n "$hits" ]; then
        echo "layout: module/$1 must not include $2 ($3):"
        echo "$hits"
        bad=1
    fi
}
refuse pki 'registry|decide|capf|cli|freeradius|fleet|coa' 'pki is the bottom layer: OpenSSL only'
refuse registry 'decide|capf|cli|freeradius|fleet|coa' 'registry depends on pki only'
refuse decide 'capf|cli|fleet|coa' 'decide depends on registry and pki'
refuse freeradius 'coa|cli' 'rlm_lscgate runs inside radiusd: never the CoA client or the CLI'
refuse capf 'decide|cli|freeradius|fleet' 'the CAPF server depends on registry and pki'
refuse itl 'registry|decide|capf|cli|freeradius|fleet' 'ITL/CTL files depend on pki only'
refuse fleet 'decide|capf|cli|freeradius' 'fleet operations depend on registry and pki'
refuse coa 'decide|capf|cli|freeradius|fleet|itl' 'the CoA client depends on registry and pki'
# The web pages (issue 14) sit on fleet, registry and pki; nothing below them includes them.
refuse web 'decide|capf|cli|freeradius|itl|coa' 'the web pages depend on fleet, registry and pki (the CLI hands them the CoA and doctor)'
for lower in pki registry decide capf itl fleet freeradius; do
    refuse "$lower" 'web' 'module/web is above every library but the CLI'
done
[ -d module/core ] && { echo "layout: module/core is gone (split into pki, registry, decide)"; bad=1; }
[ "$bad" -eq 0 ] && echo "layout: pki <- registry <- decide; capf -> registry; itl -> pki; fleet -> registry; coa -> registry; web -> fleet; freeradius -> decide: ok"
exit "$bad"
