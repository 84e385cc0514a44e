# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A build container as the build pod it stands for: pure functions, no I/O.

The engine of kiln.kaniko.container_build knows a build as two steps: the source step (``clone`` of the git
source on the host, or ``receive`` of the local context) and the ``kaniko`` container. view() writes what
it knows as the pod status that status.py classifies: the source step as an init container, the container
as the ``kaniko`` container, whose termination message is the digest file, its podman state turned into
exit code and reason (OOMKilled when its cgroup ran out of memory). So one classifier, one result policy and
one lifecycle serve both forms; explain() then words the hints for the options this form has.
"""

from __future__ import annotations

import dataclasses

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import status as pod_status
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.log_sections import clean_text
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import CLONE, KANIKO, RECEIVE

RUNNING = {'running': {}}


def terminated(exit_code, reason=None, message=None):
    """A container state: terminated with ``exit_code`` (reason Completed or Error unless given)."""
    state = {'exitCode': exit_code, 'reason': reason or ('Completed' if exit_code == 0 else 'Error')}
    if message:
        state['message'] = message
    return {'terminated': state}


def waiting(reason, message):
    return {'waiting': {'reason': reason, 'message': message}}


def from_inspect(state, digest_text=None):
    """The kaniko container's state from ``podman inspect``'s State, and the digest file Kaniko wrote."""
    state = state or {}
    status = state.get('Status')
    if status in ('exited', 'stopped'):
        reason = 'OOMKilled' if state.get('OOMKilled') else None
        return terminated(state.get('ExitCode'), reason, digest_text)
    if status in ('created', 'configured', 'initialized') and state.get('Error'):
        return waiting('RunContainerError', clean_text(state['Error']))
    if status in ('running', 'paused', 'stopping'):
        return RUNNING
    return waiting('ContainerCreating', status or 'unknown')


def create_failure(stderr, pull_policy):
    """The kaniko container's state when ``podman create`` failed with ``stderr``."""
    lines = [clean_text(line) for line in (stderr or '').splitlines() if line.strip()]
    message = lines[-1] if lines else 'podman create failed'
    text = (stderr or '').lower()
    if 'image not known' in text or 'pull' in text or 'manifest unknown' in text or 'initializing source' in text:
        return waiting('ErrImageNeverPull' if pull_policy == 'Never' else 'ErrImagePull', message)
    return waiting('CreateContainerError', message)


def _phase(source_state, kaniko_state):
    for state in (source_state, kaniko_state):
        done = (state or {}).get('terminated')
        if done and done.get('exitCode') != 0:
            return 'Failed'
    if ((kaniko_state or {}).get('terminated') or {}).get('exitCode') == 0:
        return 'Succeeded'
    return 'Running' if kaniko_state is RUNNING else 'Pending'


def view(name, local, source_state, kaniko_state=None, gone=False):
    """The pod status of build container ``name``: ``local`` says the source step is receive, not clone."""
    status = {'phase': _phase(source_state, kaniko_state),
              'initContainerStatuses': [{'name': RECEIVE if local else CLONE, 'state': source_state}]}
    if kaniko_state is not None:
        status['containerStatuses'] = [{'name': KANIKO, 'state': kaniko_state}]
    metadata = {'name': name}
    if gone:
        metadata['deletionTimestamp'] = 'now'
    return {'metadata': metadata, 'status': status}


_HINTS = {
    'OOMKilled': ('the build ran out of memory: add --compressed-caching=false to extra_args, or give the host '
                  'more free memory'),
    'ErrImagePull': ('podman could not pull executor_image: check its name and tag and that this host reaches its '
                     'registry, or load the image (podman load) and set image_pull_policy: Never'),
    'ErrImageNeverPull': ('executor_image is not in podman\'s image store and image_pull_policy is Never: load it '
                          '(podman load -i ...) or let podman pull it (image_pull_policy: IfNotPresent)'),
    'CreateContainerError': 'podman could not create the build container: see the message (podman\'s own words)',
    'RunContainerError': 'podman could not start the build container: see the message (podman\'s own words)',
    pod_status.DELETED: ('something other than this task removed the build container (podman rm, podman system '
                         'reset): run the build again'),
    pod_status.CONTEXT_NOT_RECEIVED: ('the build context could not be unpacked into the private directory of the '
                                      'build: see the message'),
    pod_status.TARBALL_NOT_FETCHED: 'the tarball could not be written to tarball.dest: see the message',
}
_UNTRUSTED = ("a registry's TLS certificate is not trusted: give the CA that signed it in registry_ca "
              "(a PEM file on the host that runs the module)")
_CLONE = ('the source could not be fetched: check git.repo, git.version and the credentials (git.token, '
          'git.username and git.password, or git.key_file and git.known_hosts_file)')


def explain(outcome):
    """``outcome`` with the hint (and message) of the container form: status.py's name the pod's options."""
    hint = _HINTS.get(outcome.reason)
    if hint is None and outcome.hint and 'registry_ca' in outcome.hint:
        hint = _UNTRUSTED
    if hint is None and outcome.container == CLONE:
        hint = _CLONE
    message = outcome.message
    if outcome.reason == pod_status.DELETED:
        message = (message or '').replace('pod ', 'container ', 1)
    return dataclasses.replace(outcome, hint=hint or outcome.hint, message=message)
