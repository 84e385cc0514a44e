# shellcheck shell=bash
# The developer tools' venv (ansible-lint, yamllint, ansible-builder, antsibull-changelog, ruff, the
# ShellCheck binary and the ansible-doc they use), sourced by scripts/lint.sh, scripts/ee.sh, scripts/package.sh
# and `make docs`.
#
#   KILN_CACHE        cache root (default ~/.cache/kiln); the venv is $KILN_CACHE/tools
#   KILN_TOOLS_PYTHON interpreter to make the venv with (default python3.11, else python3)
#
# After sourcing: KILN_REPO, KILN_TOOLS (the venv, first on PATH), kiln_tools_stage and kiln_pinned_venv
# (below; scripts/package.sh makes galaxy-importer's venv with it).

KILN_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KILN_CACHE=${KILN_CACHE:-$HOME/.cache/kiln}
KILN_TOOLS=$KILN_CACHE/tools
export KILN_REPO KILN_CACHE KILN_TOOLS

# kiln_pinned_venv VENV REQUIREMENTS makes VENV (with KILN_TOOLS_PYTHON) and installs REQUIREMENTS into it,
# again only when the file's hash differs from the one the last install recorded in the venv. One install at
# a time (a lock beside the venv): scripts/test.sh makes the tools venv in the background while lint and
# package, in two lanes, may ask for it.
kiln_pinned_venv() {
    local venv=$1 requirements=$2
    mkdir -p "$(dirname "$venv")" || return 1
    (
        flock 9 || exit 1
        _kiln_pinned_venv_locked "$venv" "$requirements"
    ) 9>"$venv.lock"
}

_kiln_pinned_venv_locked() {
    local venv=$1 requirements=$2 python want stamp=$1/.requirements.sha256
    python=${KILN_TOOLS_PYTHON:-$(command -v python3.11 || command -v python3)}
    want=$(sha256sum "$requirements" | cut -d' ' -f1)
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv" || return 1
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip || return 1
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" || return 1
        echo "$want" >"$stamp"
    fi
}

kiln_tools_venv() {
    kiln_pinned_venv "$KILN_TOOLS" "$KILN_REPO/scripts/tools-requirements.txt"
}

# kiln_tools_stage copies the git-tracked files (as they are in the work tree; `git add -N` a new file
# to include it; or as a commit has them with KILN_STAGE_REF=<commit>) into a fresh
# $(kiln_tools_stage_dir)/ansible_collections/kiln/kaniko, so that the tools see what a clean clone
# holds, and sets KILN_TOOLS_TREE (for ANSIBLE_COLLECTIONS_PATH) and KILN_TOOLS_STAGED. kubernetes.core,
# the collection's only dependency, is the test venv's copy when there is one (scripts/test-env.sh),
# else it comes from Galaxy through ansible-galaxy, once.
#
# The stage belongs to one tree: KILN_COLLECTIONS when it is set (the test tree a checkout uses), else
# the checkout itself; named for its last component and a hash of its whole path, so that two
# checkouts linted at the same time, even with test trees of the same name, never share a stage.
kiln_tools_stage_dir() {
    local owner=${KILN_COLLECTIONS:-$KILN_REPO} hash
    owner=${owner%/}
    hash=$(printf '%s' "$owner" | sha256sum | cut -c1-12)
    echo "$KILN_CACHE/tools-stage-${owner##*/}-$hash"
}

kiln_tools_stage() {
    local tree core
    tree=$(kiln_tools_stage_dir)
    local cached=$KILN_CACHE/tools-kubernetes-core
    local dest=$tree/ansible_collections/kiln/kaniko
    rm -rf "$dest"
    mkdir -p "$dest" "$tree/ansible_collections/kubernetes"
    if [ -n "${KILN_STAGE_REF:-}" ]; then  # a commit instead of the work tree, e.g. KILN_STAGE_REF=HEAD
        (cd "$KILN_REPO" && git archive "$KILN_STAGE_REF") | tar -x -C "$dest" || return 1
    else
        (cd "$KILN_REPO" && git ls-files -z --cached) | (cd "$KILN_REPO" && xargs -0 cp --parents -t "$dest" 2>/dev/null) || true
    fi
    local cores=("$KILN_CACHE"/venv/lib/python3*/site-packages/ansible_collections/kubernetes/core)
    core=${cores[0]}
    if [ ! -f "$core/MANIFEST.json" ]; then
        core=$cached/ansible_collections/kubernetes/core
        if [ ! -f "$core/MANIFEST.json" ]; then
            "$KILN_TOOLS/bin/ansible-galaxy" collection install --collections-path "$cached" \
                'kubernetes.core:>=5.1.0' >&2 || return 1
        fi
    fi
    ln -sfn "$core" "$tree/ansible_collections/kubernetes/core"
    KILN_TOOLS_TREE=$tree
    KILN_TOOLS_STAGED=$dest
    export KILN_TOOLS_TREE KILN_TOOLS_STAGED
}

kiln_tools_venv || { echo "tools-env: could not prepare $KILN_TOOLS" >&2; return 1; }
PATH=$KILN_TOOLS/bin:$PATH
export PATH
