#!/usr/bin/env bash
# ansible-test integration on the running lab cluster (make lab-up), from a fresh copy of the
# git-tracked collection files. Extra arguments go to ansible-test (e.g. a target name).
set -euo pipefail
# shellcheck source=scripts/test-env.sh
. "$(dirname "$0")/test-env.sh"
python3 "$KILN_REPO/tests/lab/lab.py" status >/dev/null || {
    echo "integration: the lab is not up (make lab-up)" >&2
    exit 1
}
eval "$(python3 "$KILN_REPO/tests/lab/lab.py" env)"
# The executor image for the container_build target, from the lab's own archive; without podman that
# target fails (it checks for the image), the others run.
python3 "$KILN_REPO/tests/lab/lab.py" podman || echo "integration: no executor image in podman; container_build will fail" >&2
kiln_stage_collection
cd "$KILN_STAGED"
# ansible-test filters the environment; the lab's addresses reach the targets as variables.
python3 "$KILN_REPO/tests/lab/lab.py" vars >tests/integration/integration_config.yml
ansible-test integration --python "$KILN_PYTHON" --color no "$@"
