#!/usr/bin/env bash
# ansible-test integration on the running lab cluster (make lab-up), from fresh copies of the
# git-tracked collection files: every target runs to its end, KILN_INTEGRATION_JOBS (default 2) at a time,
# each in its own ansible-test process, and a table gives each one's result and seconds (scripts/run_targets.py).
# Arguments: target names (default: all but those that need several nodes, alias nodes; --nodes: those), and after
# them options for ansible-test (e.g. -v).
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
jobs=${KILN_INTEGRATION_JOBS:-2}
# ansible-test makes its SSH key pair (~/.ansible/test/id_rsa) at its first run: two starting at once race for it,
# and the second's ssh-keygen finds the first's key and asks whether to overwrite it. Made here first, as
# ansible-test makes it (core_ci.SshKey.generate_key_pair).
key=$HOME/.ansible/test/id_rsa
if [ ! -f "$key" ] || [ ! -f "$key.pub" ]; then
    mkdir -p "$(dirname "$key")"
    rm -f "$key" "$key.pub"
    ssh-keygen -m PEM -q -t rsa -N '' -f "$key"
    sed -i -E 's/(BEGIN|END) PRIVATE KEY/\1 RSA PRIVATE KEY/' "$key"
fi
base=$KILN_COLLECTIONS
trees=()
for worker in $(seq 1 "$jobs"); do
    # One tree a worker: ansible-test writes tests/output in the tree it runs from.
    KILN_COLLECTIONS=$base-integration-$worker
    kiln_stage_collection
    # ansible-test filters the environment; the lab's addresses reach the targets as variables.
    python3 "$KILN_REPO/tests/lab/lab.py" vars >"$KILN_STAGED/tests/integration/integration_config.yml"
    trees+=(--tree "$KILN_STAGED")
done
exec "$KILN_VENV/bin/python" "$KILN_REPO/scripts/run_targets.py" "${trees[@]}" --python "$KILN_PYTHON" "$@"
