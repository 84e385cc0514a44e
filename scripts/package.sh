#!/usr/bin/env bash
# The collection as users get it: `ansible-galaxy collection build` of the git-tracked files,
# galaxy-importer on the tarball (what Galaxy and Automation Hub run on an upload; any ERROR it logs or a
# nonzero exit fails the tier), install of the tarball into an empty path, ansible-doc and a syntax check
# of every playbook from there and,
# when the lab is up (make lab-up), kiln.kaniko.build run from the installed copy on the lab, twice:
# the first run builds and pushes, the second must report no change.
# Nothing else is on the collections path: ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false, and kubernetes.core
# (the one dependency) is copied from the test venv instead of being fetched.
set -euo pipefail
# shellcheck source=scripts/test-env.sh
. "$(dirname "$0")/test-env.sh"
# shellcheck source=scripts/tools-env.sh
. "$(dirname "$0")/tools-env.sh"
kiln_tools_stage
out=$KILN_CACHE/package
rm -rf "$out"
mkdir -p "$out/dist"

echo "==== ansible-galaxy collection build"
ansible-galaxy collection build --output-path "$out/dist" "$KILN_TOOLS_STAGED"
tarball=$(ls "$out"/dist/kiln-kaniko-*.tar.gz)
# build_ignore keeps the lab, CI and tooling out.
if tar -tzf "$tarball" | grep -E '^(tests/lab|tests/oracle|scripts|\.ci|bench)/' >/dev/null; then
    echo "package: the tarball holds files that build_ignore should keep out" >&2
    exit 1
fi

# galaxy-importer, configured by scripts/galaxy-importer.cfg, in a venv of its own
# (scripts/galaxy-importer-requirements.txt says why). It takes about half a minute of CPU (ansible-doc
# for each plugin type, then ansible-lint), so it runs beside the install and the syntax checks, in a
# process group of its own (setsid) that stop_importer ends if the tier stops early; importer_verdict
# waits for it and reports before anything runs on the lab. Its ansible-lint finds kubernetes.core
# missing (Galaxy installs no dependency for it): those findings are warnings there and here.
echo "==== galaxy-importer, beside the steps below (its report comes after them)"
importer=$KILN_CACHE/galaxy-importer
kiln_pinned_venv "$importer" "$KILN_REPO/scripts/galaxy-importer-requirements.txt" ||
    { echo "package: could not prepare $importer" >&2; exit 1; }
(
    cd "$out"
    export PATH=$importer/bin:$PATH GALAXY_IMPORTER_CONFIG=$KILN_REPO/scripts/galaxy-importer.cfg
    # ansible's and ansible-lint's temporary files and cache in the tier's own folder, not ~/.ansible/tmp.
    export GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP=$out/importer-tmp
    exec setsid --wait "$importer/bin/python" -m galaxy_importer.main "$tarball"
) >"$out/importer.log" 2>&1 &
importer_pid=$!
stop_importer() {
    if [ -n "$importer_pid" ]; then
        kill -- "-$importer_pid" 2>/dev/null || true
    fi
}
trap stop_importer EXIT
importer_verdict() {
    local status=0 start=$SECONDS
    wait "$importer_pid" || status=$?
    importer_pid=
    echo "==== galaxy-importer: its report (the tier waited $((SECONDS - start))s for it)"
    grep -v '^Loading ' "$out/importer.log" || true
    if [ "$status" -ne 0 ] || grep -qE '^(ERROR|CRITICAL):' "$out/importer.log"; then
        echo "package: galaxy-importer refuses the tarball (exit $status), as Galaxy would" >&2
        return 1
    fi
}

echo "==== install into an empty path"
clean=$out/collections
ansible-galaxy collection install --no-deps --collections-path "$clean" "$tarball"
cores=("$KILN_VENV"/lib/python3*/site-packages/ansible_collections/kubernetes/core)
core=${cores[0]}
mkdir -p "$clean/ansible_collections/kubernetes"
cp -a "$core" "$clean/ansible_collections/kubernetes/"
export ANSIBLE_COLLECTIONS_PATH=$clean ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false ANSIBLE_NOCOLOR=1
# The test venv's ansible-core runs the playbooks: it has the kubernetes client the modules import.
run=$KILN_VENV/bin
"$run/ansible-galaxy" collection list
"$run/ansible-doc" -t module kiln.kaniko.build >/dev/null
for playbook in $(cd "$clean/ansible_collections/kiln/kaniko/playbooks" && ls ./*.yml); do
    name=$(basename "$playbook" .yml)
    "$run/ansible-playbook" --syntax-check "kiln.kaniko.$name" >/dev/null
    echo "package: kiln.kaniko.$name: syntax ok"
done

importer_verdict || exit 1

if ! python3 "$KILN_REPO/tests/lab/lab.py" status >/dev/null 2>&1; then
    echo "package: built, imported, installed and checked; the lab is not up, so no playbook ran (make lab-up)"
    exit 0
fi

echo "==== kiln.kaniko.build from the installed copy, on the lab"
eval "$(python3 "$KILN_REPO/tests/lab/lab.py" env)"
ns=kiln-package-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
vars=$out/vars.yml
cat >"$vars" <<VARS
kiln_kubeconfig: $KUBECONFIG
kiln_build_namespace: $ns
kiln_build_registry_mirrors: ["$KILN_LAB_REGISTRY"]
kiln_build_insecure_registries: ["$KILN_LAB_REGISTRY"]
kiln_build_insecure: true
kiln_build_images:
  - repo: $KILN_LAB_GIT_URL/dockercoins.git
    context: rng
    destination: $KILN_LAB_REGISTRY/$ns/rng:package
VARS
cleanup() {
    "$KILN_LAB_KUBECTL" --kubeconfig "$KUBECONFIG" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT
status=0
for pass in 1 2; do
    "$run/ansible-playbook" -vvv kiln.kaniko.build -e "@$vars" >"$out/run$pass.log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        tail -40 "$out/run$pass.log"
        echo "package: run $pass of kiln.kaniko.build failed" >&2
        exit 1
    fi
    grep -A 8 'TASK \[Summary\]' "$out/run$pass.log" | grep -E 'rng|IMAGE' || true
done
grep -q "Using module file $clean/ansible_collections/kiln/kaniko/plugins/modules/build.py" "$out/run1.log" || {
    echo "package: the build module did not come from the installed copy" >&2
    exit 1
}
changed=$(grep -E '^localhost +:' "$out/run2.log" | sed -E 's/.*changed=([0-9]+).*/\1/')
if [ "$changed" != 0 ]; then
    echo "package: the second run reported changed=$changed; it must change nothing" >&2
    exit 1
fi
echo "package: built, imported, installed, and run twice from the installed copy (second run: changed=0)"
