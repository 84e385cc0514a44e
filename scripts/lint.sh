#!/usr/bin/env bash
# The static quality gates, on the git-tracked files (a fresh copy, as a clean clone has them):
#   yamllint (strict), ansible-lint (production profile, .ansible-lint), antsibull-changelog lint,
#   ruff on the Python that ansible-test sanity does not see (ruff.toml: the lab, the fault and smoke
#   suites, bench, scripts) and on plugins/, mypy on the type hints of plugins/module_utils (mypy.ini, for
#   Python 3.8), shellcheck on every *.sh and on the shell the build pods run
#   (scripts/embedded_shell.py), the check that docs/ says what ansible-doc says, and antsibull-docs'
#   linter for the Ansible documentation site, on the collection's docs (plugin and role docs included).
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
    local name=$1 start=$SECONDS
    shift
    echo "==== $name"
    if "$@"; then
        echo "---- $name: passed ($((SECONDS - start))s)"
    else
        echo "---- $name: FAILED ($((SECONDS - start))s)"
        failed=$((failed + 1))
    fi
}

gate yamllint yamllint --strict --config-file .yamllint .
gate ansible-lint ansible-lint --nocolor --profile production
gate changelog antsibull-changelog lint
gate ruff ruff check --no-cache --output-format=concise
# Its cache beside the stage, which is made anew each run.
gate mypy mypy --config-file mypy.ini --cache-dir "$KILN_TOOLS_TREE/.mypy_cache"
# Every shell script of the tree: sanity's own shellcheck would see the shipped ones only, and skips them
# when shellcheck is not installed.
mapfile -t shell_scripts < <(find . -name '*.sh' -type f -not -path './tests/output/*' | sort)
gate shellcheck shellcheck -x --severity=warning "${shell_scripts[@]}"
gate embedded-shell "$KILN_TOOLS/bin/python" "$KILN_TOOLS_STAGED/scripts/embedded_shell.py"
gate docs "$KILN_TOOLS/bin/python" "$KILN_REPO/scripts/render_docs.py" --check "$KILN_TOOLS_STAGED/docs"
# Here rather than in the package tier: it reads the docs' sources, needs no tarball and no lab, and a
# broken reference is found before the lab is up.
gate antsibull-docs antsibull-docs lint-collection-docs --plugin-docs .
[ "$failed" -eq 0 ] || { echo "lint: $failed gate(s) failed" >&2; exit 1; }
echo "lint: all gates passed"
