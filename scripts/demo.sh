#!/usr/bin/env bash
# The demo: DockerCoins built and run in the lab cluster by the collection's own playbook.
#
#   bash scripts/demo.sh        # extra arguments go to ansible-playbook (e.g. -v for the build logs)
#
# Installs what it needs (Debian packages, a venv from PyPI under ~/.cache/kiln), brings the lab up
# (python3 tests/lab/lab.py up; seconds when it already runs), runs kiln.kaniko.lab from a copy of
# this checkout with the lab's settings and its nodes as the inventory (each node trusts the registry,
# however many the lab has), and prints the summary with the images' digests. It leaves
# the app running; run it again and nothing changes (changed=0: the builds are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==== installing what the demo needs"
# The lab's Go builds (the first time) need no Debian package: they begin while apt installs. `up` waits for
# them through their build lock (and builds what they could not), and comes up while the venv is made: the one
# needs the CPU, the other mostly the network.
up_log=$(mktemp)
python3 tests/lab/lab.py go core >"$up_log" 2>&1 &
python3 tests/lab/lab.py deps
python3 tests/lab/lab.py up >>"$up_log" 2>&1 &
up=$!
# The venv (ansible-core, the kubernetes client, kubernetes.core) and a copy of the collection.
KILN_COLLECTIONS=${KILN_COLLECTIONS:-${KILN_CACHE:-$HOME/.cache/kiln}/collections-demo}
export KILN_COLLECTIONS
# shellcheck source=scripts/test-env.sh
. scripts/test-env.sh
kiln_stage_collection

echo "==== bringing the lab up"
status=0
wait "$up" || status=$?
if [ "$status" -ne 0 ]; then
    cat "$up_log"
    echo "demo: the lab did not come up ($status)" >&2
    exit "$status"
fi
grep '^lab: ' "$up_log" || true
rm -f "$up_log"
eval "$(python3 tests/lab/lab.py env)"
[ -f "${KILN_LAB_INVENTORY:-}" ] || {
    echo "demo: the lab has no inventory of its nodes (${KILN_LAB_INVENTORY:-unset}); a lab started by an older" \
        "checkout writes none: python3 tests/lab/lab.py down, then bash scripts/demo.sh" >&2
    exit 1
}

# The lab's settings; the playbook itself knows nothing of the lab.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/lab-vars.yml" <<VARS
# The cluster, and its nodes: the hosts of group kiln_nodes in $KILN_LAB_INVENTORY, reached over SSH as root,
# each with the certs.d its containerd reads on every pull (so no restart).
kiln_kubeconfig: $KUBECONFIG
kiln_node_become: false
# The lab is plain Kubernetes.
kiln_registry_route: false
# Nothing is pulled from the internet: Docker Hub base images (FROM busybox) come from the lab's mirror.
kiln_build_registry_mirrors: ["$KILN_LAB_REGISTRY"]
kiln_build_insecure_registries: ["$KILN_LAB_REGISTRY"]
# The sample app, from the lab's git server.
kiln_app_repo: $KILN_LAB_GIT_URL/dockercoins.git
# Say which builds run and for how long every 2 s (the lab builds take seconds, not minutes).
kiln_kaniko_progress_interval: 2
VARS

echo "==== ansible-playbook kiln.kaniko.lab"
status=0
ANSIBLE_COLLECTIONS_PATH=$KILN_COLLECTIONS ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-$([ -t 1 ] && echo 1 || echo 0)} \
    ansible-playbook kiln.kaniko.lab -i "$KILN_LAB_INVENTORY" -e "@$work/lab-vars.yml" "$@" 2>&1 | tee "$work/demo.log" || status=$?
[ "$status" -eq 0 ] || { echo "demo: the playbook failed ($status)" >&2; exit "$status"; }

echo
echo "==== summary"
sed -n '/TASK \[Summary\]/,/^}/p' "$work/demo.log" | tail -n +2 | grep -E '^\s+"' | tail -4 | sed -E 's/^ +"//; s/",?$//' | sed 's/\x1b\[[0-9;]*m//g'
# The PLAY RECAP: localhost and each node (colours taken out first, as the run may have had them).
sed 's/\x1b\[[0-9;]*m//g' "$work/demo.log" | grep -E '^[^ ]+ +: ok='
cat <<EOF2

The app runs in namespace kiln-dockercoins; see it with
    $KILN_LAB_KUBECTL --kubeconfig $KUBECONFIG -n kiln-dockercoins logs deploy/worker --tail 3
Run bash scripts/demo.sh again: the builds are skipped and nothing changes (changed=0).
EOF2
