#!/usr/bin/env bash
# The lab's smoke suite (tests/lab_smoke) on the running lab. Needs only pytest.
# KILN_CORE=2.21 runs it with the Python and venv of the newest ansible-core's tier, inside its Debian trixie root
# (`lab.py root`, as scripts/test-env.sh does), which shares this machine's network and the lab's state.
set -euo pipefail
cd "$(dirname "$0")/.."
# The execution-environment image (test_ee.py): built from this checkout and imported when missing.
python3 tests/lab/lab.py images ee >/dev/null
case ${KILN_CORE:-} in
    '') ;;
    2.21) exec python3 tests/lab/lab.py root tests/requirements-2.21.txt \
        bash -c 'exec "$KILN_ROOT/bin/python" -m pytest -p no:cacheprovider tests/lab_smoke -v "$@"' lab-smoke "$@" ;;
    *) echo "lab-smoke: KILN_CORE is '$KILN_CORE'; leave it unset or set it to 2.21" >&2; exit 2 ;;
esac
PY=${KILN_PYTHON:-python3}
"$PY" -m pytest --version >/dev/null 2>&1 || "$PY" -m pip install -q pytest
exec "$PY" -m pytest -p no:cacheprovider tests/lab_smoke -v "$@"
