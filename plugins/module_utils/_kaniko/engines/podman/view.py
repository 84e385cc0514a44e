# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A build container as the build pod it stands for: pure functions, no I/O.

The engine of kiln.kaniko.container_build knows a build as two steps: the source step (``clone`` of the git
source on the host, or ``receive`` of the local context) and the ``kaniko`` container. view() writes what
it knows as the pod status that pod/states.py classifies: the source step as an init container, the container
as the ``kaniko`` container, whose termination message is the digest file, its podman state turned into
exit code and reason (OOMKilled when its cgroup ran out of memory); a container podman could not create or
start is waiting with CreateContainerError or RunContainerError and podman's own words, which pod/states.py fails
at once. So one classifier, one result policy and one lifecycle serve both forms; explain() then words the
hints for the options this form has, and for what podman said.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Sequence

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control.log_sections import clean_text
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod.render import CLONE, KANIKO, RECEIVE

RUNNING: dict[str, Any] = {'running': {}}
# podman's zero time: a container's StartedAt until it has started.
ZERO_TIME = '0001-01-01T00:00:00'
# The most of podman's words a message quotes (a failing helper's whole --help can be in them).
PODMAN_SAID_MAX = 1000


def terminated(exit_code: int | None, reason: str | None = None, message: str | None = None) -> dict[str, Any]:
    """A container state: terminated with ``exit_code`` (reason Completed or Error unless given)."""
    state = {'exitCode': exit_code, 'reason': reason or ('Completed' if exit_code == 0 else 'Error')}
    if message:
        state['message'] = message
    return {'terminated': state}


def waiting(reason: str, message: str) -> dict[str, Any]:
    return {'waiting': {'reason': reason, 'message': message}}


def podman_said(command: str, name: str | None, returncode: int, output: str | Sequence[str] | None) -> str:
    """podman's own words when ``podman <command> [<name>]`` exited with ``returncode``: the last ``Error:`` line
    of its ``output`` (a text, or its lines; podman's warnings come before it), else the last line."""
    if isinstance(output, str):
        output = output.splitlines()
    lines = [clean_text(line).strip() for line in output or () if line and line.strip()]
    errors = [line for line in lines if line.startswith('Error: ')]
    said = errors[-1] if errors else (lines[-1] if lines else 'it printed nothing')
    if len(said) > PODMAN_SAID_MAX:
        said = said[:PODMAN_SAID_MAX] + '...'
    what = ' '.join(part for part in ('podman', command, name) if part)
    return '{0} exited with status {1}: {2}'.format(what, returncode, said)


def _never_started(state: dict[str, Any]) -> bool:
    return (state.get('StartedAt') or ZERO_TIME).startswith(ZERO_TIME)


def from_inspect(state: dict[str, Any] | None, digest_text: str | None = None,
                 start_error: str | None = None) -> dict[str, Any]:
    """The kaniko container's state from ``podman inspect``'s State, once ``podman start --attach`` has ended;
    ``digest_text`` is the digest file Kaniko wrote, ``start_error`` podman's words (podman_said) when that start
    exited non-zero.

    A container that ran has exited. One that is still created (or configured, initialized) after the start has
    ended was never started, and nothing will start it: podman 4.3 leaves a container it could not start so, with
    an empty State.Error, and the start's own stderr is all that says why. It fails at once (RunContainerError).
    """
    state = state or {}
    status = state.get('Status')
    if status in ('exited', 'stopped') and not (start_error and _never_started(state)):
        reason = 'OOMKilled' if state.get('OOMKilled') else None
        return terminated(state.get('ExitCode'), reason, digest_text)
    if status in ('running', 'paused', 'stopping'):
        return RUNNING
    message = start_error or clean_text(state.get('Error') or '') or (
        'podman start ended and left the container {0}'.format(status or 'in no known state'))
    return waiting('RunContainerError', message)


def create_failure(name: str, returncode: int, stderr: str | None, pull_policy: str) -> dict[str, Any]:
    """The kaniko container's state when ``podman create`` of container ``name`` exited with ``returncode``."""
    message = podman_said('create', name, returncode, stderr)
    text = (stderr or '').lower()
    if 'image not known' in text or 'pull' in text or 'manifest unknown' in text or 'initializing source' in text:
        return waiting('ErrImageNeverPull' if pull_policy == 'Never' else 'ErrImagePull', message)
    return waiting('CreateContainerError', message)


def _phase(source_state: dict[str, Any] | None, kaniko_state: dict[str, Any] | None) -> str:
    for state in (source_state, kaniko_state):
        done = (state or {}).get('terminated')
        if done and done.get('exitCode') != 0:
            return 'Failed'
    if ((kaniko_state or {}).get('terminated') or {}).get('exitCode') == 0:
        return 'Succeeded'
    return 'Running' if kaniko_state is RUNNING else 'Pending'


def view(name: str, local: bool, source_state: dict[str, Any], kaniko_state: dict[str, Any] | None = None,
         gone: bool = False) -> dict[str, Any]:
    """The pod status of build container ``name``: ``local`` says the source step is receive, not clone."""
    status = {'phase': _phase(source_state, kaniko_state),
              'initContainerStatuses': [{'name': RECEIVE if local else CLONE, 'state': source_state}]}
    if kaniko_state is not None:
        status['containerStatuses'] = [{'name': KANIKO, 'state': kaniko_state}]
    metadata = {'name': name}
    if gone:
        metadata['deletionTimestamp'] = 'now'
    return {'metadata': metadata, 'status': status}


# What a host lacks when podman finds no helper program of network (slirp4netns, or pasta since podman 4.4).
HELPER_HINTS = {
    'slirp4netns': ('install the slirp4netns package (e.g. apt-get install slirp4netns) on the host that runs the '
                    'module, or set network: host'),
    'pasta': ('install the passt package (e.g. apt-get install passt) on the host that runs the module, or set '
              'network: slirp4netns or host'),
}
_HINTS: dict[str | None, str] = {  # looked up by an Outcome's reason, which may be None
    'OOMKilled': ('the build ran out of memory: add --compressed-caching=false to extra_args, or give the host '
                  'more free memory'),
    'ErrImagePull': ('podman could not pull executor_image: check its name and tag and that this host reaches its '
                     'registry, or load the image (podman load) and set image_pull_policy: Never'),
    'ErrImageNeverPull': ('executor_image is not in podman\'s image store and image_pull_policy is Never: load it '
                          '(podman load -i ...) or let podman pull it (image_pull_policy: IfNotPresent)'),
    'CreateContainerError': 'podman could not create the build container: see the message (podman\'s own words)',
    'RunContainerError': 'podman could not start the build container: see the message (podman\'s own words)',
    states.DELETED: ('something other than this task removed the build container (podman rm, podman system '
                         'reset): run the build again'),
    states.CONTEXT_NOT_RECEIVED: ('the build context could not be unpacked into the private directory of the '
                                  'build: see the message'),
    states.TARBALL_NOT_FETCHED: 'the tarball could not be written to tarball.dest: see the message',
}
# podman's words when it could not create or start the container, and what to do; the first that matches wins.
_PODMAN_SAYS = (
    (re.compile(r'could not find slirp4netns'), HELPER_HINTS['slirp4netns']),
    (re.compile(r'could not find pasta'), HELPER_HINTS['pasta']),
    (re.compile(r'slirp4netns'), ("slirp4netns, which network: slirp4netns needs, did not set up the container's "
                                  'network: see the message, check that it runs (slirp4netns --version), or set '
                                  'network: host')),
    (re.compile(r'unable to find network|network not found'), (
        'podman knows no network of that name: create it (podman network create), or set network to slirp4netns '
        'or host')),
    (re.compile(r'attempted to invoke a command that was not found|executable file not found'), (
        'executor_image lacks the command podman runs (the Kaniko executor, /kaniko/executor, is its entrypoint): '
        'give a Kaniko executor image')),
)
_UNTRUSTED = ("a registry's TLS certificate is not trusted: give the CA that signed it in registry_ca "
              "(a PEM file on the host that runs the module)")
_CLONE = ('the source could not be fetched: check git.repo, git.version and the credentials (git.token, '
          'git.username and git.password, or git.key_file and git.known_hosts_file)')


def _podman_hint(message: str | None) -> str | None:
    for words, hint in _PODMAN_SAYS:
        if words.search(message or ''):
            return hint
    return None


def explain(outcome: states.Outcome) -> states.Outcome:
    """``outcome`` with the hint (and message) of the container form: pod/states.py's name the pod's options."""
    hint = _HINTS.get(outcome.reason)
    if outcome.reason in ('CreateContainerError', 'RunContainerError'):
        hint = _podman_hint(outcome.message) or hint
    if hint is None and outcome.hint and 'registry_ca' in outcome.hint:
        hint = _UNTRUSTED
    if hint is None and outcome.container == CLONE:
        hint = _CLONE
    message = outcome.message
    if outcome.reason == states.DELETED:
        message = (message or '').replace('pod ', 'container ', 1)
    return dataclasses.replace(outcome, hint=hint or outcome.hint, message=message)
