#!/usr/bin/env bash
# Write docs/modules, docs/roles, docs/filters and docs/reference.md from `ansible-doc` of the
# git-tracked collection files; with --check, only say (and exit 1) when those pages are stale.
#   bash scripts/docs.sh            # regenerate, then commit the result
#   bash scripts/docs.sh --check    # the check scripts/lint.sh runs
set -euo pipefail
# shellcheck source=scripts/tools-env.sh
. "$(dirname "$0")/tools-env.sh"
kiln_tools_stage
export ANSIBLE_COLLECTIONS_PATH=$KILN_TOOLS_TREE
export ANSIBLE_NOCOLOR=1
if [ "${1:-}" = --check ]; then
    exec "$KILN_TOOLS/bin/python" "$KILN_REPO/scripts/render_docs.py" --check "$KILN_REPO/docs"
fi
exec "$KILN_TOOLS/bin/python" "$KILN_REPO/scripts/render_docs.py" "$KILN_REPO/docs"
