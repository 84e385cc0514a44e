# shellcheck shell=bash
# Prepares the controller/test environment; sourced by scripts/sanity.sh and scripts/units.sh.
#
#   KILN_CACHE   where the venv and the collection tree live (default ~/.cache/kiln)
#   KILN_PYTHON  the Python version ansible-test runs with (default 3.11)
#
# After sourcing: the venv is active, KILN_REPO points at the git checkout and
# kiln_stage_collection copies the tracked files into an ansible_collections tree.

KILN_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KILN_CACHE=${KILN_CACHE:-$HOME/.cache/kiln}
KILN_PYTHON=${KILN_PYTHON:-3.11}
KILN_VENV=$KILN_CACHE/venv
# Engineers and CI running tiers side by side give each its own tree (KILN_COLLECTIONS=...).
KILN_COLLECTIONS=${KILN_COLLECTIONS:-$KILN_CACHE/collections}
export KILN_REPO KILN_CACHE KILN_PYTHON KILN_VENV KILN_COLLECTIONS

kiln_venv() {
    local stamp want
    want=$(sha256sum "$KILN_REPO/requirements.txt" | cut -d' ' -f1)
    stamp=$KILN_VENV/.requirements.sha256
    if [ ! -x "$KILN_VENV/bin/python" ]; then
        "python$KILN_PYTHON" -m venv "$KILN_VENV" || return 1
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        "$KILN_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip || return 1
        "$KILN_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$KILN_REPO/requirements.txt" || return 1
        echo "$want" >"$stamp"
    fi
}

# ansible-test bootstraps pip in the virtual environments it makes for sanity tests with a
# get-pip script that it downloads from a host outside the package registries. It uses a copy
# at ~/.ansible/test/cache/get_pip_<pip version, dots as underscores>.py when one is there, so
# put a stand-in there that bootstraps pip with ensurepip and installs from PyPI.
kiln_get_pip() {
    local version target
    version=$("$KILN_VENV/bin/python" - "$KILN_PYTHON" <<'PY'
import sys
from ansible_test._internal.python_requirements import get_venv_packages


class Python:
    version = sys.argv[1]


print(get_venv_packages(Python())['pip'])
PY
) || return 1
    target=$HOME/.ansible/test/cache/get_pip_${version//./_}.py
    mkdir -p "$(dirname "$target")"
    cmp -s "$KILN_REPO/scripts/get_pip_standin.py" "$target" || cp "$KILN_REPO/scripts/get_pip_standin.py" "$target"
}

# Copy the git-tracked files (as they are in the work tree) that the collection ships, that is
# all but galaxy.yml's build_ignore (the lab, CI and tooling), into a fresh
# ansible_collections/kiln/kaniko, and link kubernetes.core from the venv beside it:
# ansible-test points ANSIBLE_COLLECTIONS_PATH at that tree and nowhere else.
kiln_stage_collection() {
    local dest=$KILN_COLLECTIONS/ansible_collections/kiln/kaniko
    local core
    core=$("$KILN_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections/kubernetes/core
    [ -f "$core/MANIFEST.json" ] || { echo "test-env: kubernetes.core is not in $KILN_VENV" >&2; return 1; }
    rm -rf "$dest"
    mkdir -p "$dest" "$KILN_COLLECTIONS/ansible_collections/kubernetes"
    (cd "$KILN_REPO" && git ls-files -z --cached) | "$KILN_VENV/bin/python" -c '
import fnmatch, os, shutil, sys, yaml
repo, dest = sys.argv[1:3]
with open(os.path.join(repo, "galaxy.yml")) as handle:
    ignored = yaml.safe_load(handle).get("build_ignore") or []
def shipped(path):
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return not any(fnmatch.fnmatch(p, pattern) for p in prefixes for pattern in ignored)
for path in sys.stdin.read().split("\0"):
    source = os.path.join(repo, path)
    if path and shipped(path) and os.path.isfile(source):
        os.makedirs(os.path.dirname(os.path.join(dest, path)), exist_ok=True)
        shutil.copy2(source, os.path.join(dest, path))
' "$KILN_REPO" "$dest" || return 1
    ln -sfn "$core" "$KILN_COLLECTIONS/ansible_collections/kubernetes/core"
    KILN_STAGED=$dest
    export KILN_STAGED
}

kiln_venv && kiln_get_pip || { echo "test-env: could not prepare $KILN_VENV" >&2; return 1; }
PATH=$KILN_VENV/bin:$PATH
export PATH
