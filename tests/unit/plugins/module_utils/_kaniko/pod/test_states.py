# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The classifier of pod statuses (pod/states.py), on statuses recorded from a real kubelet
(fixtures/recorded, made by tests/lab/record_statuses.py) and written by hand, also those of the steps after Kaniko
(sign, sbom)."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture

DIGEST = 'sha256:dfc5efce4a35d7f4f83fa8e200f463a094a5e90992a010bfd03465d94320774d'


def recorded(name):
    return load_fixture('recorded/{0}.json'.format(name))


def recorded_pod(name):
    return recorded(name)['pod']


def test_succeeded_build():
    pod = recorded_pod('succeeded')
    outcome = states.classify(pod)
    assert outcome.state == states.SUCCEEDED
    assert outcome.terminal
    assert (outcome.container, outcome.exit_code, outcome.reason) == ('kaniko', 0, 'Completed')
    digest, images = states.parse_termination(states.container_termination(pod, 'kaniko')['message'])
    assert digest == DIGEST
    assert images and all(image.endswith('@' + DIGEST) for image in images)
    assert states.parse_commit(states.container_termination(pod, 'clone')['message']) == \
        'd22d2c8403a194a70b2c8cfc0d0aa9dd00db070f'


def test_running_pod_is_not_terminal():
    outcome = states.classify(recorded_pod('running'))
    assert outcome.state == states.RUNNING
    assert not outcome.terminal


def test_failing_run_step_names_kaniko_and_its_exit_code():
    outcome = states.classify(recorded_pod('failed_run_exit7'))
    assert (outcome.state, outcome.container, outcome.exit_code, outcome.reason) == (states.FAILED, 'kaniko', 7, 'Error')
    assert '\x1b[' not in outcome.message
    assert outcome.message.splitlines()[-1] == (
        'error building image: error building stage: failed to execute command: waiting for process to exit: exit status 7')
    assert states.describe(outcome, '\x1b[36mINFO\x1b[0m[0000] about to fail  ') == (
        "Build failed in container 'kaniko' with exit code 7 (Error): last log line: INFO[0000] about to fail "
        "(hint: a build step or the push failed: see log_lines (and log_path for the whole log))")


def test_an_untrusted_registry_certificate_points_at_registry_ca():
    pod = recorded_pod('failed_run_exit7')
    kaniko = [item for item in pod['status']['containerStatuses'] if item['name'] == 'kaniko'][0]
    kaniko['state']['terminated'].update(exitCode=1, message=(
        'error checking push permissions -- make sure you entered the correct tag name, and that you are '
        'authenticated correctly, and try again: checking push permission for "10.0.0.7:30500/team/app:1": '
        'creating push check transport for 10.0.0.7:30500 failed: Get "https://10.0.0.7:30500/v2/": tls: failed '
        'to verify certificate: x509: certificate signed by unknown authority'))
    outcome = states.classify(pod)
    assert (outcome.container, outcome.exit_code, outcome.reason) == ('kaniko', 1, 'Error')
    assert outcome.hint == ("a registry's TLS certificate is not trusted: give the CA that signed it in registry_ca "
                            "(a Secret or ConfigMap in namespace that holds it)")


def test_failed_clone_names_the_init_container():
    outcome = states.classify(recorded_pod('failed_clone_missing_ref'))
    assert (outcome.state, outcome.container, outcome.exit_code) == (states.FAILED, 'clone', 128)
    assert 'git.repo, git.version and git.secret' in outcome.hint
    assert states.describe(outcome).startswith(
        "Build failed in container 'clone' with exit code 128 (Error): fatal: couldn't find remote ref no-such-branch")


def test_init_failure_is_seen_before_the_phase_says_failed():
    outcome = states.classify(load_fixture('handwritten_running_clone_failed_phase_lag.json'))
    assert (outcome.state, outcome.container, outcome.exit_code) == (states.FAILED, 'clone', 128)
    assert outcome.message.endswith('fatal: Could not read from remote repository.')


def test_init_container_still_running():
    outcome = states.classify(load_fixture('handwritten_pending_clone_running.json'))
    assert (outcome.state, outcome.container) == (states.RUNNING, 'clone')


def test_oomkilled_gets_a_memory_hint():
    outcome = states.classify(recorded_pod('oomkilled'))
    assert (outcome.state, outcome.exit_code, outcome.reason) == (states.FAILED, 137, 'OOMKilled')
    assert 'pod.resources.limits.memory' in outcome.hint
    kaniko = states.classify(load_fixture('handwritten_failed_kaniko_oomkilled.json'))
    assert (kaniko.container, kaniko.reason) == ('kaniko', 'OOMKilled')
    assert '--compressed-caching=false' in kaniko.hint
    assert 'pod.resources.limits.memory' in kaniko.hint


def test_deadline_exceeded_is_reported_at_pod_level():
    outcome = states.classify(recorded_pod('deadline_exceeded'))
    assert (outcome.state, outcome.reason, outcome.exit_code) == (states.FAILED, 'DeadlineExceeded', 137)
    assert 'timeout' in outcome.hint
    assert states.describe(outcome) == (
        "Build failed in container 'main' with exit code 137 (DeadlineExceeded): Pod was active on the node "
        "longer than the specified deadline (hint: the build did not finish in time: raise timeout)")


def test_evicted():
    outcome = states.classify(load_fixture('handwritten_failed_evicted.json'))
    assert (outcome.state, outcome.reason, outcome.container) == (states.FAILED, 'Evicted', 'kaniko')
    assert 'ephemeral-storage' in outcome.message
    assert 'ephemeral-storage' in outcome.hint


@pytest.mark.parametrize('name, reason', [
    ('err_image_pull', 'ErrImagePull'),
    ('image_pull_backoff', 'ImagePullBackOff'),
    ('invalid_image_name', 'InvalidImageName'),
    ('create_container_config_error', 'CreateContainerConfigError'),
])
def test_waiting_reasons_that_do_not_heal_fail_at_once(name, reason):
    outcome = states.classify(recorded_pod(name))
    assert (outcome.state, outcome.reason, outcome.container) == (states.FAILED, reason, 'main')
    assert outcome.message
    assert states.describe(outcome).startswith("Build failed: container 'main' could not start ({0})".format(reason))


def test_image_pull_error_of_the_clone_container_names_git_image():
    outcome = states.classify(load_fixture('handwritten_pending_clone_imagepullbackoff.json'))
    assert (outcome.state, outcome.container, outcome.reason) == (states.FAILED, 'clone', 'ImagePullBackOff')
    assert 'git_image' in outcome.hint


def test_missing_secret_volume_is_not_in_the_status_but_in_the_events():
    pod_and_events = recorded('pending_missing_secret_volume')
    pod = pod_and_events['pod']
    assert states.classify(pod).state == states.RUNNING
    assert states.not_started(pod)
    message = states.volume_failure(pod_and_events['events'])
    assert message == 'MountVolume.SetUp failed for volume "auth" : secret "missing-secret" not found'
    outcome = states.mount_failed(message)
    assert 'git.secret' in outcome.hint
    assert states.describe(outcome).startswith('Build pod could not start (FailedMount): MountVolume.SetUp failed')


def test_started_pods_are_not_stuck():
    for name in ('running', 'succeeded', 'unschedulable', 'failed_run_exit7'):
        assert not states.not_started(recorded_pod(name)), name
    assert states.volume_failure(recorded('err_image_pull')['events']) is None


def test_unschedulable_fails_only_after_the_grace_time():
    pod = recorded_pod('unschedulable')
    message = states.unschedulable_message(pod)
    assert "didn't match Pod's node affinity/selector" in message
    assert states.classify(pod, now=100.0, unschedulable_since=100.0, unschedulable_timeout=60).state == states.RUNNING
    assert states.classify(pod, now=159.9, unschedulable_since=100.0, unschedulable_timeout=60).state == states.RUNNING
    outcome = states.classify(pod, now=160.0, unschedulable_since=100.0, unschedulable_timeout=60)
    assert (outcome.state, outcome.reason) == (states.FAILED, 'Unschedulable')
    assert 'pod.node_selector' in outcome.hint
    assert states.describe(outcome).startswith('Build pod could not be scheduled (Unschedulable): 0/1 nodes are available')


def test_scheduled_pods_are_not_unschedulable():
    assert states.unschedulable_message(recorded_pod('running')) is None


def test_failed_pod_without_container_detail():
    outcome = states.classify({'status': {'phase': 'Failed', 'message': 'node lost'}})
    assert (outcome.state, outcome.reason, outcome.message) == (states.FAILED, 'Failed', 'node lost')


def test_warning_messages_of_recorded_events():
    assert states.warning_messages(recorded('err_image_pull')['events'])[0].startswith(
        'Failed: Failed to pull image "docker.io/library/not-there:1"')
    assert states.warning_messages(recorded('succeeded')['events']) == []
    assert states.warning_messages([{'type': 'Warning', 'reason': 'BackOff', 'message': 'Back-off', 'count': 3}]) == [
        'BackOff: Back-off (x3)']


def test_timeout_and_deleted_outcomes():
    outcome = states.timed_out(recorded_pod('running'), 30)
    assert (outcome.state, outcome.reason, outcome.container) == (states.FAILED, 'Timeout', 'main')
    assert states.describe(outcome).startswith("Build timed out: the build did not finish within 30 s (still in container 'main')")
    gone = states.deleted()
    assert gone.reason == 'Deleted'
    assert states.describe(gone).startswith('Build failed (Deleted): the pod was deleted by someone else')


def being_deleted(pod):
    pod['metadata']['deletionTimestamp'] = '2026-01-01T10:00:00Z'
    return pod


def test_a_pod_being_deleted_is_reported_as_deleted_while_it_runs():
    outcome = states.classify(being_deleted(recorded_pod('running')))
    assert (outcome.state, outcome.reason) == (states.FAILED, states.DELETED)
    name = recorded_pod('running')['metadata']['name']
    assert outcome.message == 'pod {0} was deleted by someone else at 2026-01-01T10:00:00Z'.format(name)


def test_the_exit_code_of_a_container_stopped_by_a_deletion_is_not_the_build_failure():
    # The kubelet stops the containers of a pod being deleted: their exit code says nothing about the build.
    pod = being_deleted(recorded_pod('failed_run_exit7'))
    outcome = states.classify(pod)
    assert outcome.reason == states.DELETED and outcome.exit_code is None
    text = states.describe(outcome, 'kiln-faults: step started')
    assert text.startswith('Build failed (Deleted): pod {0} was deleted by someone else'.format(pod['metadata']['name']))
    assert 'exit code' not in text and 'kubectl delete' in text


def test_a_build_that_succeeded_before_the_deletion_still_succeeded():
    assert states.classify(being_deleted(recorded_pod('succeeded'))).state == states.SUCCEEDED


@pytest.mark.parametrize('message, digest, images', [
    ('registry:5000/rng@' + DIGEST + '\n', DIGEST, ['registry:5000/rng@' + DIGEST]),
    ('registry:5000/rng@' + DIGEST + '\nghcr.io/x/rng@' + DIGEST, DIGEST,
     ['registry:5000/rng@' + DIGEST, 'ghcr.io/x/rng@' + DIGEST]),
    ('', None, []),
    (None, None, []),
    ('error building image: exit status 7', None, []),
    ('registry:5000/rng@sha256:short', None, []),
])
def test_parse_termination(message, digest, images):
    assert states.parse_termination(message) == (digest, images)


@pytest.mark.parametrize('message, commit', [
    ('d22d2c8403a194a70b2c8cfc0d0aa9dd00db070f\n', 'd22d2c8403a194a70b2c8cfc0d0aa9dd00db070f'),
    ('a' * 64, 'a' * 64),
    ('fatal: not a commit', None),
    ('d22d2c8', None),
    (None, None),
])
def test_parse_commit(message, commit):
    assert states.parse_commit(message) == commit


def test_clean_text_removes_colours():
    assert states.clean_text('\x1b[36mINFO\x1b[0m[0000] Retrieving image  \n') == 'INFO[0000] Retrieving image'


def test_telling_line_prefers_the_error_over_interleaved_output():
    interleaved = ['INFO[0000] Running: [/bin/sh -c echo "about to fail" && exit 7]',
                   'error building image: error building stage: failed to execute command: exit status 7',
                   'about to fail']
    assert states.telling_line(interleaved) == interleaved[1]
    assert states.telling_line(['step 1', 'step 2', '']) == 'step 2'
    assert states.telling_line(['\x1b[31mERRO\x1b[0m[0001] push failed', 'done']) == 'ERRO[0001] push failed'
    assert states.telling_line([]) is None


def test_a_container_that_never_started_is_described_by_its_waiting_message():
    outcome = states.classify(recorded_pod('err_image_pull'))
    text = states.describe(outcome, 'kiln clone: checked out d22d2c8403a194a70b2c8cfc0d0aa9dd00db070f')
    assert 'kiln clone' not in text
    assert text.startswith("Build failed: container 'main' could not start (ErrImagePull): rpc error: code = NotFound")


# ---------------------------------------------------------------- the steps after Kaniko: sign and sbom

def _pod(init, containers, phase='Running', spec_containers=('sign',)):
    def statuses(items):
        result = []
        for name, state in items:
            result.append({'name': name, 'state': state})
        return result
    return {'spec': {'containers': [{'name': name} for name in spec_containers]},
            'status': {'phase': phase, 'initContainerStatuses': statuses(init), 'containerStatuses': statuses(containers)}}


DONE = {'terminated': {'exitCode': 0, 'reason': 'Completed'}}


SIGNED_DIGEST = 'sha256:' + 'ab' * 32
KANIKO_DONE = {'terminated': {'exitCode': 0, 'reason': 'Completed',
                              'message': 'registry:5000/app:1@{0}\n'.format(SIGNED_DIGEST)}}


def test_the_build_succeeds_when_the_last_step_has_not_when_kaniko_has():
    running = _pod([('clone', DONE), ('kaniko', KANIKO_DONE), ('sbom', DONE)], [('sign', {'running': {}})])
    assert states.classify(running).state == states.RUNNING
    done = _pod([('clone', DONE), ('kaniko', KANIKO_DONE), ('sbom', DONE)], [('sign', DONE)])
    outcome = states.classify(done)
    assert outcome.state == states.SUCCEEDED and outcome.container == 'sign'


def test_a_wrong_password_fails_naming_the_sign_step_and_says_so():
    failed = {'terminated': {'exitCode': 1, 'reason': 'Error', 'message':
                             'Error: signing [registry:5000/app@sha256:ab]: getting signer: reading key: decrypt: '
                             'encrypted: decryption failed\nmain.go:74: error during command execution'}}
    pod = _pod([('clone', DONE), ('kaniko', KANIKO_DONE), ('sbom', DONE)], [('sign', failed)], phase='Failed')
    outcome = states.classify(pod)
    assert (outcome.state, outcome.container, outcome.exit_code) == (states.FAILED, 'sign', 1)
    assert 'cosign.password' in outcome.hint and 'unsigned' in outcome.hint
    text = states.describe(outcome, 'Error: signing [registry:5000/app@sha256:ab]: decrypt: encrypted: decryption failed')
    assert text.startswith("Build failed in container 'sign' with exit code 1 (Error)")


def test_a_failed_sbom_step_names_syft_image():
    pull = {'waiting': {'reason': 'ErrImagePull', 'message': 'not found'}}
    pod = _pod([('clone', DONE), ('kaniko', KANIKO_DONE), ('sbom', pull)], [('sign', {'waiting': {}})], phase='Pending')
    outcome = states.classify(pod)
    assert outcome.container == 'sbom' and 'syft_image' in outcome.hint
