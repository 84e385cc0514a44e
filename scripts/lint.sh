#!/usr/bin/env bash
# The static quality gates, on the git-tracked files (a fresh copy, as a clean clone has them):
#   yamllint (strict), ansible-lint (production profile, .ansible-lint), antsibull-changelog lint,
#   the shell scripts checked by shellcheck (ansible-test sanity does not see scripts/), and the check that docs/ says what
#   ansible-doc says.
# Tools come from their own venv ($KILN_CACHE/tools, scripts/tools-requirements.txt). Runs every
# gate, then exits nonzero if any failed.
set -uo pipefail
# shellcheck source=scripts/tools-env.sh
. "$(dirname "$0")/tools-env.sh" || exit 1
kiln_tools_stage || exit 1
cd "$KILN_TOOLS_STAGED" || exit 1
export ANSIBLE_COLLECTIONS_PATH=$KILN_TOOLS_TREE
export ANSIBLE_NOCOLOR=1

failed=0
gate() {
    local name=$1
    shift
    echo "==== $name"
    if "$@"; then
        echo "---- $name: passed"
    else
        echo "---- $name: FAILED"
        failed=$((failed + 1))
    fi
}

gate yamllint yamllint --strict --config-file .yamllint .
gate ansible-lint ansible-lint --nocolor --profile production
gate changelog antsibull-changelog lint
gate shellcheck shellcheck -x --severity=warning scripts/*.sh
gate docs "$KILN_TOOLS/bin/python" "$KILN_REPO/scripts/render_docs.py" --check "$KILN_TOOLS_STAGED/docs"
[ "$failed" -eq 0 ] || { echo "lint: $failed gate(s) failed" >&2; exit 1; }
echo "lint: all gates passed"
