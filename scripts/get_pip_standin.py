"""Stand-in for the get-pip.py script that ansible-test downloads to bootstrap pip.

ansible-test runs it inside a fresh virtual environment as
``python <quiet_pip.py> [pip options] pip==X.Y [--no-setuptools] [--no-wheel]``.
It installs the requested pip from pip's own wheel, which scripts/test-env.sh downloads from the package
index once and keeps beside this file: pip runs from its wheel (as get-pip.py runs it from the zip it
embeds) and installs that wheel into the environment, offline and without compiling it (Python compiles
what it imports, when it imports it). Where the wheel is missing it falls back to ensurepip and installs the
requested packages from the package index. Either way it does all that the real script does that
ansible-test relies on. From the wheel, pip 24.2 took 2.4 CPU-seconds here, the ensurepip way 8.6, for each of
the dozen environments a sanity run makes the first time.
"""

from __future__ import annotations

import os
import subprocess
import sys

GET_PIP_ONLY_OPTIONS = frozenset(('--no-setuptools', '--no-wheel', '--no-pip'))


def requested_pip(args: list[str]) -> str | None:
    """The version of ``pip==X.Y`` among the arguments, if one is asked for."""
    for arg in args:
        if arg.startswith('pip=='):
            return arg[len('pip=='):]
    return None


def from_wheel(args: list[str]) -> int | None:
    """Install pip from its wheel beside this file, then any other requested package; None without the wheel."""
    version = requested_pip(args)
    wheel = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pip-%s-py3-none-any.whl' % version)
    if version is None or not os.path.isfile(wheel):
        return None
    options = [arg for arg in args if arg.startswith('-')]
    rc = subprocess.call([sys.executable, os.path.join(wheel, 'pip'), 'install', '--no-index', '--no-compile',
                          '--quiet'] + options + [wheel])
    others = [arg for arg in args if not arg.startswith('-') and not arg.startswith('pip==')]
    if rc != 0 or not others:
        return rc
    return subprocess.call([sys.executable, '-m', 'pip', 'install'] + options + others)


def main() -> int:
    """Bootstrap pip, then install the packages named on the command line."""
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    rc = from_wheel(args)
    if rc is not None:
        return rc
    rc = subprocess.call([sys.executable, '-m', 'ensurepip', '--default-pip'])
    if rc != 0:
        return rc
    if not any(not arg.startswith('-') for arg in args):
        return 0
    return subprocess.call([sys.executable, '-m', 'pip', 'install'] + args)


if __name__ == '__main__':
    sys.exit(main())
