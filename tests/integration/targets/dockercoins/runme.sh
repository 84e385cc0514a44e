#!/usr/bin/env bash
# The DockerCoins walk-through (kiln.kaniko.lab) on the lab cluster, run twice as a user runs it:
# an in-cluster registry that every node trusts (the lab's nodes as the inventory, reached over SSH, each
# with its own certs.d), rng and worker built from the lab's git server with
# the clone init container and pushed there, both run by digest, worker reaching rng through the
# Service named rng. The second run must change nothing (the builds are skipped).
# Everything gets names of its own and is removed at the end, whatever happened.
set -eu
set -o pipefail
here=$(pwd)
out=$(mktemp -d)
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
config=$here/../../integration_config.yml
# The lab's nodes as Ansible hosts (group kiln_nodes), written by tests/lab/lab.py; its path is in the config.
inventory=$(sed -n 's/^kiln_lab_inventory: "\(.*\)"$/\1/p' "$config")
[ -f "$inventory" ] || { echo "dockercoins: no inventory of the lab's nodes (kiln_lab_inventory in $config)" >&2; exit 1; }

cat >"$out/vars.yml" <<VARS
kiln_kubeconfig: "{{ kiln_lab_kubeconfig }}"
kiln_registry_namespace: kiln-it-dc-$id-registry
# The registry target adds and removes a Route API now and then; this walk-through is plain Kubernetes.
kiln_registry_route: false
# The inventory connects as root and gives each node its certs.d and no restart command.
kiln_node_become: false
kiln_build_namespace: kiln-it-dc-$id-builds
kiln_build_registry_mirrors: ["{{ kiln_lab_registry }}"]
kiln_build_insecure_registries: ["{{ kiln_lab_registry }}"]
kiln_app_repo: "{{ kiln_lab_git_url }}/dockercoins.git"
kiln_app_namespace: kiln-it-dc-$id-app
kiln_kaniko_progress_interval: 1
VARS

cleanup() {
    local attempt
    # The lab's API server may be restarting (fault tests do that): try again before giving up.
    for attempt in 1 2 3; do
        if ansible-playbook -i "$inventory" -e "@$config" -e "@$out/vars.yml" "$here/cleanup.yml" >"$out/cleanup.log" 2>&1; then
            rm -rf "$out"
            return 0
        fi
        echo "dockercoins: cleanup attempt $attempt failed, trying again" >&2
        sleep 20
    done
    tail -20 "$out/cleanup.log"
    echo "dockercoins: cleanup failed; namespaces kiln-it-dc-$id-* may be left" >&2
    rm -rf "$out"
    return 1
}
trap cleanup EXIT

run() {
    local pass=$1
    if ! ansible-playbook -v -i "$inventory" -e "@$config" -e "@$out/vars.yml" kiln.kaniko.lab >"$out/run$pass.log" 2>&1; then
        tail -60 "$out/run$pass.log"
        echo "dockercoins: run $pass of kiln.kaniko.lab failed" >&2
        exit 1
    fi
    grep -A 6 'TASK \[Summary\]' "$out/run$pass.log" | tail -5
}

expect() {
    local pass=$1 pattern=$2 what=$3
    grep -E -q -- "$pattern" "$out/run$pass.log" || { echo "dockercoins: run $pass: $what" >&2; exit 1; }
}

run 1
expect 1 '"rng +built +[0-9.]+s +[^ ]+/dockercoins/rng@sha256:[0-9a-f]{64}"' "rng was not built and run by digest"
expect 1 '"worker +built +[0-9.]+s +[^ ]+/dockercoins/worker@sha256:[0-9a-f]{64}"' "worker was not built and run by digest"
expect 1 'worker \(namespace kiln-it-dc-[0-9a-f]+-app\) works' "worker never reached rng"
# Progress while the builds ran: which builds, for how long, and (with -v) their log lines.
expect 1 '^\[localhost\] 2 builds \(rng:latest, worker:latest\): building for [0-9]+s' "no progress line named the builds"
expect 1 '^\[localhost\] rng:latest \| .*Pushed ' "no log line of the rng build was shown"
expect 1 '^\[localhost\] worker:latest \| ' "no log line of the worker build was shown"

run 2
expect 2 '^localhost +: ok=[0-9]+ +changed=0 ' "the second run changed something"
if grep -E '^kiln-node[^ ]* +: ok=[0-9]+ +changed=[1-9]' "$out/run2.log"; then
    echo "dockercoins: the second run changed a node" >&2
    exit 1
fi
grep -q -E '^kiln-node +: ok=[1-9]' "$out/run2.log" || { echo "dockercoins: the nodes were not reached" >&2; exit 1; }
expect 2 '"rng +skipped ' "the second run built rng again"
expect 2 '"worker +skipped ' "the second run built worker again"
echo "dockercoins: built, ran, and the second run changed nothing"
