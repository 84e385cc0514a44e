"""Stand-in for the get-pip.py script that ansible-test downloads to bootstrap pip.

ansible-test runs it inside a fresh virtual environment as
``python <quiet_pip.py> [pip options] pip==X.Y [--no-setuptools] [--no-wheel]``.
It bootstraps pip from the standard library (ensurepip) and then installs the
requested packages from the package index, which is all the real script does
that ansible-test relies on.
"""

from __future__ import annotations

import subprocess
import sys

GET_PIP_ONLY_OPTIONS = frozenset(('--no-setuptools', '--no-wheel', '--no-pip'))


def main() -> int:
    """Bootstrap pip, then install the packages named on the command line."""
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    rc = subprocess.call([sys.executable, '-m', 'ensurepip', '--default-pip'])
    if rc != 0:
        return rc
    if not any(not arg.startswith('-') for arg in args):
        return 0
    return subprocess.call([sys.executable, '-m', 'pip', 'install'] + args)


if __name__ == '__main__':
    sys.exit(main())
