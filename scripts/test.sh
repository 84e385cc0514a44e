#!/usr/bin/env bash
# The whole test suite, on a fresh Debian bookworm machine or a warm one, in two lanes side by side:
#   checks:  sanity -> units -> units and sanity on the lowest ansible-core meta/runtime.yml claims
#            -> units and sanity on the newest ansible-core (2.21, in a Debian trixie root with Python 3.13)
#            -> oracle (the differential test against the Go code) -> lint -> execution environment
#   lab:     the lab's Go builds -> lab up -> lab smoke -> integration (two targets at a time), and beside
#            it builds ending with their job (ansible-runner, job pods) and the faults, bad input, secrets
#            and pod security tests that leave the lab's components alone -> the integration smoke on the
#            lowest and the newest kubernetes client and kubernetes.core -> the smoke tests and a build, a
#            skip and a failure on the newest ansible-core -> the collection as users get it
#            -> the faults that stop and restart lab components (alone) -> the lab grown to three nodes:
#            builds across nodes, a node lost, cut off or drained (last)
# The checks need no lab and the lab's tiers spend much of their time waiting for pods: together they keep
# both cores busy. The checks print as they run; each lab tier prints when it has ended. cosign and syft
# (for the signing target only) build after the lab's own binaries, beside the tiers.
# Installs what it needs (Debian packages, a venv from PyPI, the lab's builds from the Go module
# proxy, cached under ~/.cache/kiln). Exits nonzero when any tier failed or could not run.
# KILN_KEEP_LAB=1 leaves the lab running afterwards.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
runs=$(mktemp -d)
declare -a summary=()
failed=0
passed=0

# tier NAME COMMAND...: run a tier, say how it went and how long it took (also in $runs/NAME.status).
# With KILN_TIER_LOGS set, the tier's output goes to $runs/NAME.log instead, shown when the lanes have ended.
tier() {
    local name=$1
    shift
    echo
    echo "==== $name: $*"
    local start=$SECONDS rc=0 cpu counted=$runs/times.$BASHPID
    times >"$counted"  # here, not in a $(...) subshell, whose `times` counts only its own
    cpu=$(children_cpu "$counted")
    if [ -n "${KILN_TIER_LOGS:-}" ]; then
        "$@" >"$runs/$name.log" 2>&1 || rc=$?
    else
        "$@" || rc=$?
    fi
    local result=passed
    [ "$rc" -eq 0 ] || result=FAILED
    times >"$counted"
    cpu=$(($(children_cpu "$counted") - cpu))
    echo "$name: $result ($((SECONDS - start))s, ${cpu} CPU-s)" | tee "$runs/$name.status"
    return "$rc"
}

# The CPU seconds (user + system) of the processes a shell has waited for, from what its `times` wrote to
# $1: a tier's own work, not the lab's daemons or the build containers it asks for.
children_cpu() {
    awk 'NR == 2 {
        total = 0
        for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); total += t[1] * 60 + t[2] }
        printf "%d\n", total
    }' "$1"
}

# Units and sanity again on the oldest ansible-core that meta/runtime.yml claims (its own venv).
lowest_core() {
    KILN_CORE=lowest bash scripts/units.sh && KILN_CORE=lowest bash scripts/sanity.sh
}

# And on the newest, which needs Python 3.12 or later: both run in a Debian trixie root (`lab.py root`, made once
# with debootstrap and cached) with its Python 3.13 and a venv of tests/requirements-2.21.txt.
newest_core() {
    KILN_CORE=2.21 bash scripts/units.sh && KILN_CORE=2.21 bash scripts/sanity.sh
}

# The lab's smoke tests and build_many (builds, a skip, a failure) on the newest ansible-core, in the same root.
newest_core_lab() {
    KILN_CORE=2.21 bash scripts/lab-smoke.sh && KILN_CORE=2.21 bash scripts/integration.sh build_many
}

lab_down() {
    if [ "${KILN_KEEP_LAB:-0}" != 1 ]; then
        python3 "$repo/tests/lab/lab.py" down || true
    fi
}

# The lab's Go builds begin first: they need no Debian package, so they run beside apt and the making of the
# project venv (the lab lane's own `go core` then waits for them through the build locks).
python3 tests/lab/lab.py go core >"$runs/go-early.log" 2>&1 &
# Debian packages (the venv and ansible-test's own venvs need python3-venv's ensurepip).
python3 tests/lab/lab.py deps || { echo "test: could not install Debian packages" >&2; exit 1; }
# The project venv, once, before the lanes that both use it.
# shellcheck source=scripts/test-env.sh
(. scripts/test-env.sh) || { echo "test: could not make the project venv" >&2; exit 1; }
# And the tools venv, which lint (checks lane) and package (lab lane) use, in the background: sanity need not wait
# for it, and they wait for it through its lock.
# shellcheck source=scripts/tools-env.sh
(. scripts/tools-env.sh) >"$runs/tools-venv.log" 2>&1 &

lab_tiers=(lab-up lab-smoke integration awx faults k8s-pairs lab-2.21 package faults-disruptive nodes)
# The lab lane: its own collection trees (the checks lane stages into the default ones at the same time),
# each tier's output in $runs/NAME.log.
lab_lane() {
    local name
    export KILN_COLLECTIONS=${KILN_CACHE:-$HOME/.cache/kiln}/collections-lab KILN_TIER_LOGS=1
    # The execution-environment image (lab smoke and awx): debootstrap and pip, beside the Go builds.
    python3 tests/lab/lab.py images ee >"$runs/ee-image.log" 2>&1 &
    # The venvs of the k8s-pairs tier (pip, beside the Go builds; the tier waits for them through their locks).
    for pair in lowest newest; do
        KILN_K8S=$pair bash -c '. scripts/test-env.sh' || echo "test: could not make the $pair venv of k8s-pairs"
    done >"$runs/k8s-venvs.log" 2>&1 &
    if ! python3 tests/lab/lab.py go core >"$runs/go.log" 2>&1; then
        echo "lab: the Go builds failed; lab up tries again:"
        tail -20 "$runs/go.log"
    fi
    # cosign and syft, for build_supply: after the lab's own builds, beside its tiers (integration waits for them);
    # then kwok, for the faults' fake nodes (their fixture waits for it).
    { python3 tests/lab/lab.py go supply && python3 tests/lab/lab.py go kwok; } >"$runs/go-supply.log" 2>&1 &
    tier lab-up python3 tests/lab/lab.py up
    if python3 tests/lab/lab.py status >/dev/null 2>&1; then
        tier lab-smoke bash scripts/lab-smoke.sh
        # Beside integration, which spends much of its time waiting for pods: the job-lifecycle tests and the
        # faults that leave the shared lab components alone (each works in namespaces, containers and
        # directories of its own, and stages the collection into a tree of its own).
        KILN_COLLECTIONS=$KILN_COLLECTIONS-awx tier awx bash scripts/awx.sh &
        KILN_COLLECTIONS=$KILN_COLLECTIONS-faults tier faults bash scripts/faults.sh -m "not disruptive and not nodes" &
        tier integration bash scripts/integration.sh
        wait
        tier k8s-pairs bash scripts/k8s-pairs.sh
        # The newest ansible-core on the lab, from its Debian root: the smoke tests and a build, a skip, a failure.
        KILN_COLLECTIONS=$KILN_COLLECTIONS-2.21 tier lab-2.21 newest_core_lab
        tier package bash scripts/package.sh
        # Last, alone: these stop and restart lab components (and always bring them back).
        tier faults-disruptive bash scripts/faults.sh -m "disruptive and not nodes"
        # Then the lab grows to three nodes for the tests of builds across nodes and of a node lost.
        tier nodes bash scripts/nodes.sh
    else
        for name in "${lab_tiers[@]:1}"; do
            echo "$name: could not run (no lab)" >"$runs/$name.status"
        done
    fi
    wait
}

trap lab_down EXIT
lab_lane &
lane=$!

tier sanity bash scripts/sanity.sh
tier units bash scripts/units.sh
tier units-lowest lowest_core
tier units-2.21 newest_core
tier oracle bash scripts/oracle.sh
tier lint bash scripts/lint.sh
tier execution-environment bash scripts/ee.sh

echo
echo "==== the checks have ended; waiting for the lab lane"
wait "$lane"
for name in "${lab_tiers[@]}"; do
    if [ -f "$runs/$name.log" ]; then
        echo
        echo "==== $name (its output)"
        cat "$runs/$name.log"
    fi
done

for name in sanity units units-lowest units-2.21 oracle lint execution-environment "${lab_tiers[@]}"; do
    line=$(cat "$runs/$name.status" 2>/dev/null || echo "$name: could not run")
    summary+=("$line")
    case $line in
        *": passed "*) passed=$((passed + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
done
rm -rf "$runs"

echo
echo "==== summary"
printf '%s\n' "${summary[@]}"
echo "tiers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
