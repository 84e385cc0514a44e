#!/usr/bin/env bash
# Fault, bad-input, secret and pod-security tests of kiln.kaniko on the running lab (make lab-up):
# pytest tests/faults with the git-tracked collection staged as the only kiln.kaniko ansible sees.
# Extra arguments go to pytest, e.g. `-m "not disruptive"` to leave the shared lab components alone,
# or `-k timeout`.
set -euo pipefail
# shellcheck source=scripts/test-env.sh
. "$(dirname "$0")/test-env.sh"
python3 "$KILN_REPO/tests/lab/lab.py" status >/dev/null || {
    echo "faults: the lab is not up (make lab-up)" >&2
    exit 1
}
kiln_stage_collection
ANSIBLE_COLLECTIONS_PATH=$KILN_COLLECTIONS
export ANSIBLE_COLLECTIONS_PATH
cd "$KILN_REPO/tests/faults"
exec "$KILN_VENV/bin/python" -m pytest -p no:cacheprovider -v "$@"
