#!/usr/bin/env bash
# The execution environment's build context: builds the collection from the git-tracked files, puts
# the tarball beside a copy of ee/, and runs `ansible-builder create` (ansible-builder from PyPI, in the
# tools venv). Building the image itself needs podman or docker with network access:
#   ansible-builder build --tag kiln-kaniko-ee:latest --context "${KILN_CACHE:-~/.cache/kiln}/ee/context"
# It also installs the tarball the way the image's galaxy stage will and prints the Python and system
# packages ansible-builder would add for the collections (kubernetes.core from the test venv, if any).
set -euo pipefail
# shellcheck source=scripts/tools-env.sh
. "$(dirname "$0")/tools-env.sh"
kiln_tools_stage
out=$KILN_CACHE/ee
rm -rf "$out"
mkdir -p "$out/definition" "$out/dist"
ansible-galaxy collection build --output-path "$out/dist" "$KILN_TOOLS_STAGED" >/dev/null
cp "$KILN_REPO"/ee/* "$out/definition/"
cp "$out"/dist/kiln-kaniko-*.tar.gz "$out/definition/kiln-kaniko.tar.gz"
ansible-builder create --file "$out/definition/execution-environment.yml" --context "$out/context" \
    --output-filename Containerfile
test -f "$out/context/Containerfile"
test -f "$out/context/_build/collections/kiln-kaniko.tar.gz"

# What the image's galaxy and builder stages will do with the collection, offline.
ansible-galaxy collection install --no-deps --collections-path "$out/installed" \
    "$out/context/_build/collections/kiln-kaniko.tar.gz" >/dev/null
cores=("$KILN_CACHE"/venv/lib/python3*/site-packages/ansible_collections/kubernetes/core)
core=${cores[0]}
if [ -f "$core/MANIFEST.json" ]; then
    mkdir -p "$out/installed/ansible_collections/kubernetes"
    cp -a "$core" "$out/installed/ansible_collections/kubernetes/"
fi
echo "ee: the image would add these Python and system packages for the collections:"
"$KILN_TOOLS/bin/python" "$out/context/_build/scripts/introspect.py" introspect "$out/installed"
echo "ee: build context in $out/context (Containerfile); build it with"
echo "    ansible-builder build --tag kiln-kaniko-ee:latest --context $out/context"
