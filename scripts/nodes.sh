#!/usr/bin/env bash
# The tests that need a lab of several nodes: the lab grows to three nodes (this machine and two workers in
# network namespaces of their own; `tests/lab/lab.py up --nodes 3`, seconds on a running lab), then the fault
# tests marked `nodes` run on it (builds spread across nodes, placement on a real scheduler, a node lost,
# cut off or drained mid-build), and the integration targets with the alias `nodes` (the registry play trusted
# on every node over SSH). The lab keeps its three nodes afterwards; `lab.py up --nodes 1` takes the
# workers away again. Extra arguments go to pytest (e.g. `-k spread`). Both run; it fails if either failed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python3 "$repo/tests/lab/lab.py" up --nodes "${KILN_LAB_TEST_NODES:-3}" >/dev/null || exit 1
status=0
bash "$repo/scripts/faults.sh" -m nodes "$@" || status=1
KILN_INTEGRATION_JOBS=${KILN_INTEGRATION_JOBS:-1} bash "$repo/scripts/integration.sh" --nodes || status=1
exit "$status"
