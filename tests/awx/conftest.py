"""Fixtures of the job-lifecycle tests (scripts/awx.sh): the lab fixtures of tests/faults, shared, and
ansible-runner, the engine AWX runs jobs with."""

import importlib.util
from pathlib import Path

_FAULTS = Path(__file__).resolve().parent.parent / "faults" / "conftest.py"
_spec = importlib.util.spec_from_file_location("kiln_faults_fixtures", _FAULTS)
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
globals().update({name: value for name, value in vars(_fixtures).items() if not name.startswith("_")})
