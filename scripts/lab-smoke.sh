#!/usr/bin/env bash
# The lab's smoke suite (tests/lab_smoke) on the running lab. Needs only pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${KILN_PYTHON:-python3}
"$PY" -m pytest --version >/dev/null 2>&1 || "$PY" -m pip install -q pytest
# The execution-environment image (test_ee.py): built from this checkout and imported when missing.
python3 tests/lab/lab.py images ee >/dev/null
exec "$PY" -m pytest -p no:cacheprovider tests/lab_smoke -v "$@"
