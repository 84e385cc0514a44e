#!/usr/bin/env bash
# Run bench/run.py on the lab (brought up if needed) with the collection staged as for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 tests/lab/lab.py up >/dev/null
# shellcheck source=scripts/test-env.sh
. scripts/test-env.sh
kiln_stage_collection
export ANSIBLE_COLLECTIONS_PATH=$KILN_COLLECTIONS
exec python bench/run.py "$@"
