#!/usr/bin/env bash
# The differential test (tests/oracle): kiln's .dockerignore rules and image references against the
# Go code they re-implement. Builds the oracle first (moby/patternmatcher and distribution/reference at
# the versions tests/oracle/go.mod pins, with the lab's Go; cached under $KILN_CACHE/oracle), then runs
# tests/oracle/test_differential.py on a fresh copy of the git-tracked collection files.
# Fails when the oracle cannot be built. Extra arguments go to pytest (e.g. -k dockerignore);
# KILN_ORACLE_SEED and KILN_ORACLE_CASES change the seed and the number of cases.
set -euo pipefail
# shellcheck source=scripts/test-env.sh
. "$(dirname "$0")/test-env.sh"
oracle=$(python3 "$KILN_REPO/tests/oracle/build.py") || { echo "oracle: the oracle cannot be built" >&2; exit 1; }
echo "oracle: $oracle"
kiln_stage_collection
cd "$KILN_REPO/tests/oracle"
PYTHONPATH=$KILN_COLLECTIONS${PYTHONPATH:+:$PYTHONPATH} exec "$KILN_VENV/bin/python" -m pytest -p no:cacheprovider \
    -s -rs "$@" test_differential.py
