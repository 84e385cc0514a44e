# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A build container as the pod status that pod/states.py classifies (view.py), on what podman 4.3.1 really answered
(fixtures/recorded/podman, made by tests/lab/record_podman.py) and on states written by hand: a container podman could
not start, one it could not create, ones that ran, with podman's own words and the hint of the container form."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import view
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import results
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture

NAME = 'kiln-build-1a2b3c'
DIGEST = 'registry:5000/rng@sha256:' + 'a' * 64


def recorded(scenario):
    return load_fixture('recorded/podman/{0}.json'.format(scenario))


def state_of(scenario):
    return recorded(scenario)['inspect'][0]['State']


def after_start(scenario, digest=None):
    """The kaniko container's state as the engine reads it once ``podman start --attach`` has ended: its stdout
    and stderr are one stream, the kaniko log."""
    start = recorded(scenario)['start']
    said = None
    if start['returncode']:
        said = view.podman_said('start', NAME, start['returncode'], start['stdout'] + start['stderr'])
    return view.from_inspect(state_of(scenario), digest, said)


def outcome_of(kaniko_state):
    return view.explain(states.classify(view.view(NAME, False, view.terminated(0), kaniko_state)))


@pytest.mark.parametrize('scenario', ['start_failed_no_slirp4netns', 'start_failed_no_executable'])
def test_podman_leaves_a_container_it_could_not_start_created_and_says_why_only_on_stderr(scenario):
    state = state_of(scenario)
    assert (state['Status'], state['Error'], state['ExitCode']) == ('created', '', 0)
    assert state['StartedAt'].startswith(view.ZERO_TIME)
    start = recorded(scenario)['start']
    assert start['returncode'] == 125 and start['stdout'] == '' and start['stderr'].startswith('Error: ')


def test_without_slirp4netns_the_build_fails_at_once_with_podmans_words_the_container_and_the_fix():
    outcome = outcome_of(after_start('start_failed_no_slirp4netns'))
    assert (outcome.state, outcome.container, outcome.reason) == (states.FAILED, 'kaniko', 'RunContainerError')
    assert outcome.message.startswith('podman start {0} exited with status 125: Error: unable to start container '
                                      .format(NAME))
    assert "could not find slirp4netns, the network namespace can't be configured" in outcome.message
    assert outcome.hint == ('install the slirp4netns package (e.g. apt-get install slirp4netns) on the host that runs '
                            'the module, or set network: host')
    text = states.describe(outcome)
    assert text.startswith("Build failed: container 'kaniko' could not start (RunContainerError): podman start " + NAME)
    assert text.endswith('(hint: {0})'.format(outcome.hint))


def test_an_executor_image_without_the_executor_fails_at_once_naming_executor_image():
    outcome = outcome_of(after_start('start_failed_no_executable'))
    assert outcome.reason == 'RunContainerError'
    assert 'OCI runtime attempted to invoke a command that was not found' in outcome.message
    assert outcome.hint.startswith('executor_image lacks the command podman runs')


@pytest.mark.parametrize('status', ['created', 'configured', 'initialized'])
def test_a_container_still_not_started_after_the_start_ended_fails_and_is_never_waited_for(status):
    state = dict(state_of('start_failed_no_slirp4netns'), Status=status)
    kaniko = view.from_inspect(state)
    assert kaniko == view.waiting('RunContainerError', 'podman start ended and left the container ' + status)
    assert outcome_of(kaniko).state == states.FAILED


def test_containers_that_ran_end_with_their_own_exit_code():
    succeeded = view.view(NAME, False, view.terminated(0, message='c' * 40), after_start('exited_0', DIGEST))
    assert states.classify(succeeded).state == states.SUCCEEDED
    assert states.container_termination(succeeded, 'kaniko')['message'] == DIGEST
    # podman start --attach exits with the container's status: a run that failed is no start failure.
    failed = outcome_of(after_start('exited_3'))
    assert (failed.state, failed.exit_code, failed.reason) == (states.FAILED, 3, 'Error')
    assert failed.hint.startswith('a build step or the push failed')


def test_a_network_podman_does_not_know_fails_at_create_with_podmans_words():
    create = recorded('create_failed_no_network')['create']
    outcome = outcome_of(view.create_failure(NAME, create['returncode'], create['stderr'], 'Never'))
    assert (outcome.state, outcome.reason) == (states.FAILED, 'CreateContainerError')
    assert outcome.message == ('podman create {0} exited with status 125: Error: unable to find network with name or '
                               'ID no-such-net: network not found'.format(NAME))
    assert 'podman network create' in outcome.hint and 'slirp4netns or host' in outcome.hint


def test_a_slirp4netns_that_does_not_run_is_told_apart_from_a_missing_one():
    # What podman 4.3.1 says when containers.conf's network_cmd_path names a file that is not there.
    said = view.podman_said('start', NAME, 125, [
        'time="2026-12-07T03:57:29Z" level=warning msg="Failed to retrieve program version for '
        '/nonexistent/slirp4netns: `/nonexistent/slirp4netns --version` failed:   (fork/exec '
        '/nonexistent/slirp4netns: no such file or directory)"',
        'Error: unable to start container 0123: checking slirp4netns binary /nonexistent/slirp4netns: "slirp4netns '
        '\\"\\": fork/exec /nonexistent/slirp4netns: no such file or directory"'])
    assert said.startswith('podman start {0} exited with status 125: Error: unable to start container'.format(NAME))
    outcome = outcome_of(view.from_inspect(state_of('start_failed_no_slirp4netns'), None, said))
    assert outcome.hint.startswith('slirp4netns, which network: slirp4netns needs, did not set up')


def test_podmans_words_are_its_last_error_line_and_no_more_than_a_screenful():
    assert view.podman_said('start', NAME, 125, 'level=warning msg="x"\nError: one\nError: two\n') == (
        'podman start {0} exited with status 125: Error: two'.format(NAME))
    assert view.podman_said('info', None, 1, 'no error line') == 'podman info exited with status 1: no error line'
    assert view.podman_said('start', NAME, 125, '').endswith('status 125: it printed nothing')
    long_said = view.podman_said('start', NAME, 125, 'Error: ' + 'x' * 5000)
    assert long_said.endswith('x...') and len(long_said) < view.PODMAN_SAID_MAX + 100


# ---------------------------------------------------------------- states written by hand: how each reads

def inspect(status='exited', exit_code=0, oom=False, error=''):
    return {'Status': status, 'ExitCode': exit_code, 'OOMKilled': oom, 'Error': error}


def test_a_build_that_pushed_succeeded_with_the_digest_of_the_digest_file():
    pod = view.view('kiln-build-1', False, view.terminated(0, message='c' * 40), view.from_inspect(inspect(), DIGEST))
    outcome = states.classify(pod)
    assert outcome.state == states.SUCCEEDED
    assert results.ended('kiln-build-1', outcome, pod, 1.0, [], {})['commit'] == 'c' * 40
    assert states.parse_termination(states.container_termination(pod, 'kaniko')['message'])[0] == 'sha256:' + 'a' * 64


def test_a_failing_run_step_gives_its_exit_code():
    pod = view.view('kiln-build-1', False, view.terminated(0), view.from_inspect(inspect(exit_code=3)))
    outcome = states.classify(pod)
    assert (outcome.state, outcome.container, outcome.exit_code, outcome.reason) == ('failed', 'kaniko', 3, 'Error')


def test_out_of_memory_is_oomkilled_with_a_hint_for_this_form():
    pod = view.view('kiln-build-1', True, view.terminated(0), view.from_inspect(inspect(exit_code=137, oom=True)))
    outcome = view.explain(states.classify(pod))
    assert (outcome.exit_code, outcome.reason) == (137, 'OOMKilled')
    assert 'pod.resources' not in outcome.hint and '--compressed-caching=false' in outcome.hint


def test_a_failed_clone_fails_in_container_clone():
    pod = view.view('kiln-build-1', False, view.terminated(1, message="could not fetch 'nope' (git.version)"))
    outcome = view.explain(states.classify(pod))
    assert (outcome.container, outcome.exit_code) == ('clone', 1)
    assert 'git.token' in outcome.hint and 'git.secret' not in outcome.hint


@pytest.mark.parametrize('stderr, policy, reason', [
    ('Error: ghcr.io/x:1: image not known', 'Never', 'ErrImageNeverPull'),
    ('Error: initializing source docker://ghcr.io/x:1: manifest unknown', 'IfNotPresent', 'ErrImagePull'),
    ('Error: invalid reference format', 'IfNotPresent', 'CreateContainerError'),
])
def test_a_container_podman_could_not_create_fails_at_once(stderr, policy, reason):
    pod = view.view('kiln-build-1', False, view.terminated(0), view.create_failure('kiln-build-1', 125, stderr, policy))
    outcome = view.explain(states.classify(pod))
    assert (outcome.state, outcome.reason) == ('failed', reason)
    assert outcome.message == 'podman create kiln-build-1 exited with status 125: ' + stderr
    assert 'node' not in outcome.hint


def test_a_container_that_could_not_start_and_one_that_runs():
    started = view.from_inspect(inspect(status='created', error='runc create failed: setting rlimits'))
    outcome = states.classify(view.view('n', False, view.terminated(0), started))
    assert (outcome.state, outcome.reason) == ('failed', 'RunContainerError')
    running = view.view('n', False, view.terminated(0), view.from_inspect(inspect(status='running')))
    assert states.classify(running).state == states.RUNNING
    assert states.classify(view.view('n', True, view.RUNNING)).state == states.RUNNING
    assert states.container_running(view.view('n', True, view.RUNNING), render.RECEIVE)


def test_a_container_removed_by_someone_else_is_deleted():
    outcome = view.explain(states.classify(view.view('n', False, view.terminated(0), view.RUNNING, gone=True)))
    assert outcome.reason == states.DELETED and outcome.message.startswith('container n')


def test_a_container_that_still_runs_after_the_attach_ended_is_looked_at_again():
    # The attach can end before podman has read the container's exit (or be killed): the build is not concluded.
    assert view.from_inspect({'Status': 'running', 'StartedAt': '2026-12-07T03:58:45Z'}) is view.RUNNING
