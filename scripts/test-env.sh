# shellcheck shell=bash
# Prepares the controller/test environment; sourced by scripts/sanity.sh and scripts/units.sh.
#
#   KILN_CACHE   where the venv and the collection tree live (default ~/.cache/kiln)
#   KILN_PYTHON  the Python version ansible-test runs with (default 3.11)
#   KILN_CORE    which ansible-core: unset for the one requirements.txt pins (venv $KILN_CACHE/venv),
#                "lowest" for the oldest that meta/runtime.yml claims (tests/requirements-lowest.txt, its
#                kubernetes.core from tests/requirements-lowest-nodeps.txt; venv $KILN_CACHE/venv-lowest), or
#                "2.21", the newest, which needs a newer Python than this machine's: the script that sources this
#                file runs again, with its arguments, in a Debian trixie root with Python 3.13 and the venv
#                /opt/kiln/venv of tests/requirements-2.21.txt (`lab.py root`, tests/lab/kilnlab/coreroot.py: made
#                once with debootstrap and cached under $KILN_CACHE/rootfs; the checkout and $KILN_CACHE are
#                mounted at the same paths inside)
#   KILN_K8S     which kubernetes client and kubernetes.core, with the ansible-core of requirements.txt: unset for
#                those of requirements.txt, "lowest" for the oldest the collection claims or "newest" for the
#                latest releases (tests/requirements-k8s-NAME.txt and its -nodeps.txt; venv $KILN_CACHE/venv-k8s-NAME)
#
# After sourcing: the venv is active, KILN_REPO points at the git checkout and
# kiln_stage_collection copies the tracked files into an ansible_collections tree.

KILN_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KILN_CACHE=${KILN_CACHE:-$HOME/.cache/kiln}
KILN_PYTHON=${KILN_PYTHON:-3.11}
case ${KILN_CORE:-}/${KILN_K8S:-} in
    /) KILN_VARIANT='' KILN_REQUIREMENTS=$KILN_REPO/requirements.txt ;;
    lowest/) KILN_VARIANT=lowest KILN_REQUIREMENTS=$KILN_REPO/tests/requirements-lowest.txt ;;
    2.21/) KILN_VARIANT=2.21 KILN_REQUIREMENTS=$KILN_REPO/tests/requirements-2.21.txt ;;
    /lowest | /newest) KILN_VARIANT=k8s-$KILN_K8S KILN_REQUIREMENTS=$KILN_REPO/tests/requirements-k8s-$KILN_K8S.txt ;;
    */) echo "test-env: KILN_CORE is '$KILN_CORE'; leave it unset or set it to lowest or 2.21" >&2; return 1 ;;
    /*) echo "test-env: KILN_K8S is '$KILN_K8S'; leave it unset or set it to lowest or newest" >&2; return 1 ;;
    *) echo "test-env: KILN_CORE and KILN_K8S are both set; set one of them" >&2; return 1 ;;
esac
if [ "${KILN_CORE:-}" = 2.21 ] && [ -z "${KILN_ROOT:-}" ]; then
    # The sourcing script again, inside the root (KILN_ROOT, the root's venv, is set there); sourced from no
    # script (an interactive shell), there is nothing to run again.
    case $0 in
        *.sh) exec python3 "$KILN_REPO/tests/lab/lab.py" root "$KILN_REQUIREMENTS" \
            bash "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" "$@" ;;
        *) echo "test-env: KILN_CORE=2.21 runs scripts (KILN_CORE=2.21 bash scripts/units.sh)" >&2; return 1 ;;
    esac
fi
KILN_VENV=${KILN_ROOT:-$KILN_CACHE/venv${KILN_VARIANT:+-$KILN_VARIANT}}
# Engineers and CI running tiers side by side give each its own tree (KILN_COLLECTIONS=...).
KILN_COLLECTIONS=${KILN_COLLECTIONS:-$KILN_CACHE/collections${KILN_VARIANT:+-$KILN_VARIANT}}
export KILN_REPO KILN_CACHE KILN_PYTHON KILN_CORE KILN_K8S KILN_REQUIREMENTS KILN_VENV KILN_COLLECTIONS

# The venv, from $KILN_REQUIREMENTS and, with --no-deps, its -nodeps.txt sibling when there is one
# (a package wanted for the collections it carries, not for the ansible-core it pins, nor for the Python that
# ansible-core needs: hence --ignore-requires-python); made again when they change, or the files they name
# with -r or -c. One install at a time (a lock beside the venv): scripts/test.sh makes the venvs of the
# k8s-pairs tier in the background while that tier may already ask for them.
kiln_venv() {
    mkdir -p "$(dirname "$KILN_VENV")" || return 1
    (
        flock 9 || exit 1
        _kiln_venv_locked
    ) 9>"$KILN_VENV.lock"
}

_kiln_venv_locked() {
    local stamp want nodeps=${KILN_REQUIREMENTS%.txt}-nodeps.txt named
    [ -f "$nodeps" ] || nodeps=
    named=$(sed -n -E 's/^-[rc][[:space:]]+//p' "$KILN_REQUIREMENTS" | sed "s|^|$(dirname "$KILN_REQUIREMENTS")/|")
    # shellcheck disable=SC2086  # the named files, one a word (the repository's paths have no spaces)
    want=$(cat "$KILN_REQUIREMENTS" ${nodeps:+"$nodeps"} $named | sha256sum | cut -d' ' -f1)
    stamp=$KILN_VENV/.requirements.sha256
    if [ ! -x "$KILN_VENV/bin/python" ]; then
        "python$KILN_PYTHON" -m venv "$KILN_VENV" || return 1
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        "$KILN_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip || return 1
        "$KILN_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$KILN_REQUIREMENTS" || return 1
        if [ -n "$nodeps" ]; then
            "$KILN_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --ignore-requires-python \
                -r "$nodeps" || return 1
        fi
        echo "$want" >"$stamp"
    fi
}

# With KILN_CORE=lowest, the venv's ansible-core must be the release line meta/runtime.yml names in
# requires_ansible, so that the claim and the tier that tests it cannot drift apart; with KILN_CORE=X.Y, X.Y.
kiln_check_core() {
    [ -n "${KILN_CORE:-}" ] || return 0
    "$KILN_VENV/bin/python" - "$KILN_REPO/meta/runtime.yml" "$KILN_CORE" "$KILN_REQUIREMENTS" <<'PY'
import os
import re
import sys

import yaml
from ansible.release import __version__

runtime, core, requirements = sys.argv[1:]
if core == 'lowest':
    with open(runtime) as handle:
        claim = str(yaml.safe_load(handle)['requires_ansible'])
    floor = re.fullmatch(r'>=\s*(\d+)\.(\d+)(?:\.\d+)?', claim.strip())
    if not floor:
        sys.exit("test-env: requires_ansible '{0}' is not of the form >=X.Y.Z".format(claim))
    want, why = floor.groups(), 'meta/runtime.yml claims ansible-core {0}'.format(claim)
else:
    want, why = tuple(core.split('.')), 'KILN_CORE is {0}'.format(core)
if tuple(__version__.split('.')[:2]) != want:
    sys.exit('test-env: {0} but {1} installs {2}; pin the same release line in both'.format(
        why, os.path.relpath(requirements, os.path.dirname(os.path.dirname(runtime))), __version__))
PY
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
    # pip's own wheel beside it, from which the stand-in installs pip offline (it falls back to ensurepip).
    if [ ! -f "$(dirname "$target")/pip-$version-py3-none-any.whl" ]; then
        "$KILN_VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
            -d "$(dirname "$target")" "pip==$version" || true
    fi
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

# ansible-test with its arguments, failing when it passed but warned that a test did not run: a required
# program missing (shellcheck), a test or a Python skipped, or a unit test that pytest skipped (its summary
# names each: "SKIPPED [1] file:line: reason"). A skipped test is not a passed one.
kiln_ansible_test() {
    local out rc=0 skipped='^(WARNING: (Required program|Skipping|.* skipped|Excluding)|SKIPPED \[)'
    out=$(mktemp)
    ansible-test "$@" 2>&1 | tee "$out" || rc=$?
    if [ "$rc" -eq 0 ] && grep -E "$skipped" "$out" >/dev/null; then
        echo "ansible-test passed, but some tests did not run:" >&2
        grep -E "$skipped" "$out" | sort -u >&2
        rc=1
    fi
    rm -f "$out"
    return "$rc"
}

kiln_venv && kiln_check_core && kiln_get_pip || { echo "test-env: could not prepare $KILN_VENV" >&2; return 1; }
PATH=$KILN_VENV/bin:$PATH
export PATH
