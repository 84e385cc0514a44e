#!/usr/bin/env bash
# The job-lifecycle tests of kiln.kaniko on the running lab (make lab-up): a build ends with the job
# that started it (ansible-runner's cancel, as AWX's Cancel; signals to ansible-playbook; a deleted job
# pod) and builds run in a job pod of the lab's execution-environment image with its service account.
# pytest tests/awx with the git-tracked collection staged; extra arguments go to pytest (e.g. -k cancel).
set -euo pipefail
# shellcheck source=scripts/test-env.sh
. "$(dirname "$0")/test-env.sh"
python3 "$KILN_REPO/tests/lab/lab.py" status >/dev/null || {
    echo "awx: the lab is not up (make lab-up)" >&2
    exit 1
}
# The execution-environment image of this checkout's collection (built and imported if missing; on a
# running lab this starts or stops nothing).
python3 "$KILN_REPO/tests/lab/lab.py" images ee >/dev/null
kiln_stage_collection
ANSIBLE_COLLECTIONS_PATH=$KILN_COLLECTIONS
export ANSIBLE_COLLECTIONS_PATH
cd "$KILN_REPO/tests/awx"
exec "$KILN_VENV/bin/python" -m pytest -p no:cacheprovider -v -rP "$@"
