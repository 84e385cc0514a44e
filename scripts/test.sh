#!/usr/bin/env bash
# The whole test suite, on a fresh Debian bookworm machine or a warm one:
#   sanity -> units -> units and sanity on the lowest ansible-core meta/runtime.yml claims
#   -> oracle (the differential test against the Go code) -> lint -> execution environment
#   -> lab up -> lab smoke -> integration -> builds ending with their job (ansible-runner, job pods)
#   -> the collection as users get it -> faults, bad input, secrets,
#   pod security -> lab down.
# Installs what it needs (Debian packages, a venv from PyPI, the lab's builds from the Go module
# proxy, cached under ~/.cache/kiln). Exits nonzero when any tier failed or could not run.
# KILN_KEEP_LAB=1 leaves the lab running afterwards.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
declare -a summary=()
failed=0
passed=0

tier() {
    local name=$1
    shift
    echo
    echo "==== $name: $*"
    local start=$SECONDS
    if "$@"; then
        summary+=("$name: passed ($((SECONDS - start))s)")
        passed=$((passed + 1))
    else
        summary+=("$name: FAILED ($((SECONDS - start))s)")
        failed=$((failed + 1))
    fi
}

# Units and sanity again on the oldest ansible-core that meta/runtime.yml claims (its own venv).
lowest_core() {
    KILN_CORE=lowest bash scripts/units.sh && KILN_CORE=lowest bash scripts/sanity.sh
}

lab_down() {
    if [ "${KILN_KEEP_LAB:-0}" != 1 ]; then
        python3 "$repo/tests/lab/lab.py" down || true
    fi
}

# Debian packages first (the venv and ansible-test's own venvs need python3-venv's ensurepip).
python3 tests/lab/lab.py deps || { echo "test: could not install Debian packages" >&2; exit 1; }
# The lab's Go builds (Kubernetes, CoreDNS, Kaniko, cosign, syft) are most of a cold start: they run beside the
# tiers that need no lab, and lab-up waits for them. The toolchain comes first, alone: the oracle builds with it.
python3 tests/lab/lab.py toolchain >/dev/null || { echo "test: could not install the lab's Go" >&2; exit 1; }
go_log=$(mktemp)
python3 tests/lab/lab.py go >"$go_log" 2>&1 &
go_pid=$!
lab_up() {
    if ! wait "$go_pid"; then
        echo "lab-up: the Go builds begun beside the first tiers failed; lab up tries again:" >&2
        tail -20 "$go_log" >&2
    fi
    rm -f "$go_log"
    python3 tests/lab/lab.py up
}
tier sanity bash scripts/sanity.sh
tier units bash scripts/units.sh
tier units-lowest lowest_core
tier oracle bash scripts/oracle.sh
tier lint bash scripts/lint.sh
tier execution-environment bash scripts/ee.sh
trap lab_down EXIT
tier lab-up lab_up
if python3 tests/lab/lab.py status >/dev/null 2>&1; then
    tier lab-smoke bash scripts/lab-smoke.sh
    tier integration bash scripts/integration.sh
    tier awx bash scripts/awx.sh
    tier package bash scripts/package.sh
    # Last: some of these stop and restart lab components (and always bring them back).
    tier faults bash scripts/faults.sh
else
    for name in lab-smoke integration awx package faults; do
        summary+=("$name: could not run (no lab)")
        failed=$((failed + 1))
    done
fi

echo
echo "==== summary"
printf '%s\n' "${summary[@]}"
echo "tiers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
