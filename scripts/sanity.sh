#!/usr/bin/env bash
# ansible-test sanity on a fresh copy of the git-tracked collection files.
# Extra arguments go to ansible-test (e.g. --test pylint).
set -euo pipefail
# shellcheck source=scripts/test-env.sh
. "$(dirname "$0")/test-env.sh"
kiln_stage_collection
cd "$KILN_STAGED"
kiln_ansible_test sanity --requirements --python "$KILN_PYTHON" --color no "$@"
