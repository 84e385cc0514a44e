#!/usr/bin/env bash
# The integration smoke on each pair of kubernetes client and kubernetes.core that the collection stands by:
# lowest (what galaxy.yml and the requirements files claim: kubernetes.core 5.1.0, kubernetes 24.2.0) and newest
# (the latest releases, pinned exactly), each in its venv with the project's ansible-core (scripts/test-env.sh,
# KILN_K8S; tests/requirements-k8s-*.txt), against the running lab. The pairs run one after the other, the
# targets of a pair two at a time (scripts/integration.sh).
#
# The smoke is the target that drives both the most:
#   build  the client: a pod and its short-lived Secret created, watched, its logs followed and events read,
#          deleted or kept; a build, a failing RUN, a missing ref, an image that cannot be pulled, a timeout,
#          Secrets over SSH and HTTPS; kubernetes.core's k8s (a namespace, Secrets, state absent) and k8s_info
#          (pods by name and by namespace) between them
#   build_local_context  the client's pods/exec websocket (a 50 MB context sent in), and a build skipped
#
# Arguments: the pairs (default: lowest newest). KILN_K8S_TARGETS (words) runs other targets instead.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
read -r -a targets <<<"${KILN_K8S_TARGETS:-build build_local_context}"
[ "$#" -gt 0 ] || set -- lowest newest
cache=${KILN_CACHE:-$HOME/.cache/kiln}
base=${KILN_COLLECTIONS:-$cache/collections}
status=0
for pair in "$@"; do
    # The pair's venv, made here, and what it holds.
    if ! versions=$(KILN_K8S=$pair bash -c '. "$1/scripts/test-env.sh" >&2 && "$KILN_VENV/bin/python" - <<PY
import json, os, sysconfig
import kubernetes
from ansible.release import __version__
path = os.path.join(sysconfig.get_paths()["purelib"], "ansible_collections/kubernetes/core/MANIFEST.json")
with open(path) as handle:
    core = json.load(handle)["collection_info"]["version"]
print("ansible-core %s, kubernetes.core %s, kubernetes client %s" % (__version__, core, kubernetes.__version__))
PY' _ "$repo"); then
        echo "k8s-pairs: $pair: could not make its venv" >&2
        status=1
        continue
    fi
    echo "==== k8s-pairs: $pair: $versions: ${targets[*]}"
    # Trees and times of its own: the pair's runs neither share a tree with another tier nor move the order of
    # the integration tier's targets.
    KILN_K8S=$pair KILN_COLLECTIONS=$base-k8s-$pair bash "$repo/scripts/integration.sh" \
        --times "$cache/integration-times-k8s-$pair.json" "${targets[@]}" || status=1
done
exit "$status"
