#!/usr/bin/env bash
# ansible-test units on a fresh copy of the git-tracked collection files.
# Extra arguments go to ansible-test (e.g. a test path).
set -euo pipefail
# shellcheck source=scripts/test-env.sh
. "$(dirname "$0")/test-env.sh"
kiln_stage_collection
cd "$KILN_STAGED"
kiln_ansible_test units --requirements --python "$KILN_PYTHON" --color no "$@"
