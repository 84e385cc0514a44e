# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether this host can run a build container at all: podman, new enough, and the helper its network needs.

Asked of podman itself before anything is made (no private directory, no clone, no container), so that a host
that cannot build fails in a second with what podman says and what to install, not at ``podman start``:

- podman is found (on PATH, or in the sbin directories, as AnsibleModule.get_bin_path looks);
- ``podman --version`` is at least MIN_PODMAN;
- for a network that needs a helper program (slirp4netns; pasta, which podman 4.4 brought), ``podman info``
  names one: it looks for it as ``podman start`` will (slirp4netns: containers.conf's network_cmd_path, then
  helper_binaries_dir since podman 4.6, then PATH; podman 4.3 looks on PATH alone), and reports an empty
  executable when it finds none. A podman whose info does not report the helper (pasta before 4.6) is not
  asked: its own ``podman start`` then says what it lacks, and that fails the build at once as well.

A failure is a status.Outcome, worded and hinted as the failures of a build container are (container_status),
raised as PodmanUnavailable with the keys of a failed build's result (reason, hint, rc, container).
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any, Callable

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import view
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import PodmanUnavailable
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states

if TYPE_CHECKING:
    import subprocess

# podman 4.0 brought `podman rm --time`, with which the engine removes a build container at once (--time=0),
# whatever its state; 3.x refuses the flag, and would leave the container behind. Debian bookworm has 4.3.1.
MIN_PODMAN = (4, 0, 0)
# Where AnsibleModule.get_bin_path looks besides PATH.
SBIN_DIRS = ('/sbin', '/usr/sbin', '/usr/local/sbin')
# The networks (podman's --network modes) that run a helper program of the host, named as podman info names it.
HELPERS = ('slirp4netns', 'pasta')

NOT_FOUND = 'PodmanNotFound'
TOO_OLD = 'PodmanTooOld'
FAILED = 'PodmanFailed'
HELPER_NOT_FOUND = 'NetworkHelperNotFound'

_MINIMUM = '{0}.{1}'.format(*MIN_PODMAN)  # 4.0: its patch level is 0
_HINTS = {
    NOT_FOUND: 'install podman {0} or later on the host that runs the module (e.g. apt-get install podman)'.format(
        _MINIMUM),
    TOO_OLD: ('upgrade podman to {0} or later: the module removes its build containers with podman rm --time, '
              'which came with podman 4.0').format(_MINIMUM),
    FAILED: ("podman does not work on this host as the module runs it: see the message (podman's own words), "
             'and podman info'),
}
_VERSION_RE = re.compile(r'\bversion\s+v?(\d+)\.(\d+)(?:\.(\d+))?')


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of what ``podman --version`` printed (``podman version 4.3.1``), or None."""
    match = _VERSION_RE.search(text or '')
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def network_helper(network: str) -> str | None:
    """The helper program that podman runs for ``network`` (``slirp4netns``, ``slirp4netns:mtu=1500``), or None."""
    mode = (network or '').split(':', 1)[0]
    return mode if mode in HELPERS else None


def helper_executable(info: dict[str, Any], helper: str) -> str | None:
    """The executable of ``helper`` that ``podman info`` (its JSON) names: '' when podman finds none, None when this
    podman does not report that helper at all (then its own create or start says what it lacks)."""
    found = ((info or {}).get('host') or {}).get(helper)
    if not isinstance(found, dict):
        return None
    return found.get('executable') or ''


def failure(reason: str, message: str, hint: str | None = None) -> PodmanUnavailable:
    """The PodmanUnavailable of ``reason``: a failed Outcome, described as a build's failure is."""
    outcome = states.Outcome(states.FAILED, reason=reason, message=message, hint=hint or _HINTS[reason])
    return PodmanUnavailable(states.describe(outcome),
                             dict(reason=reason, hint=outcome.hint, rc=None, container=None))


def check(podman: str | None, network: str, run: Callable[[list[str]], subprocess.CompletedProcess[str]],
          path: str | None = None) -> tuple[int, int, int]:
    """podman's version, once it is known that ``podman`` (its path, None when it was not found) can run a build
    container in ``network``; else raise PodmanUnavailable. ``run(words)`` runs podman with ``words`` and returns
    a subprocess.CompletedProcess (text); ``path`` is the PATH podman was looked for on (default: this process's).
    """
    if podman is None:
        searched = path if path is not None else os.environ.get('PATH', '')
        raise failure(NOT_FOUND, 'podman is not installed on the host that runs the module: it is not on PATH ({0}) '
                                 'nor in {1}'.format(searched, ', '.join(SBIN_DIRS)))
    said = run(['--version'])
    if said.returncode != 0:
        raise failure(FAILED, view.podman_said('--version', None, said.returncode, said.stderr or said.stdout))
    version = parse_version(said.stdout)
    if version is None:
        raise failure(FAILED, '{0} --version printed {1!r}, which names no version'.format(podman, said.stdout.strip()))
    if version < MIN_PODMAN:
        raise failure(TOO_OLD, '{0} is podman {1}; kiln.kaniko.container_build needs podman {2} or later'.format(
            podman, '.'.join(str(part) for part in version), _MINIMUM))
    helper = network_helper(network)
    if helper is not None:
        _check_helper(podman, network, helper, run)
    return version


def _check_helper(podman: str, network: str, helper: str,
                  run: Callable[[list[str]], subprocess.CompletedProcess[str]]) -> None:
    info = run(['info', '--format', 'json'])
    if info.returncode != 0:
        raise failure(FAILED, view.podman_said('info', None, info.returncode, info.stderr))
    try:
        found = helper_executable(json.loads(info.stdout), helper)
    except ValueError as exc:
        raise failure(FAILED, 'podman info --format json printed no JSON: {0!r}'.format(info.stdout[:200])) from exc
    if found == '':
        raise failure(HELPER_NOT_FOUND, (
            '{0} finds no {1}, which network: {2} needs: podman info names no host.{1}.executable (podman looks for '
            'it at containers.conf\'s network_cmd_path, in its helper_binaries_dir since podman 4.6, and on PATH: '
            '{3})').format(
            podman, helper, network, os.environ.get('PATH', '')), view.HELPER_HINTS[helper])
