# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kiln.kaniko.container_build's pure parts: its spec, the podman command line, and a container's state read as
the pod status that pod/states.py classifies."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import args as podman_args
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import view
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import build_key
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import results
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.container_build import container_spec
from ansible_collections.kiln.kaniko.plugins.modules import container_build
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec

PASSWORD = 'hunter2-registry-password'
TOKEN = 'ghp_not-a-real-token'
LIMITS = ((1024, 20000), (4096, 96363))
DIGEST = 'registry:5000/rng@sha256:' + 'a' * 64


def params(**overrides):
    given = dict(git=dict(repo='https://github.com/jpetazzo/container.training'), context_sub_path='dockercoins/rng',
                 destinations=['registry:5000/rng:latest'], insecure=True)
    given.update(overrides)
    validator = ArgumentSpecValidator(container_build.argument_spec(),
                                      mutually_exclusive=container_build.MUTUALLY_EXCLUSIVE,
                                      required_one_of=container_build.REQUIRED_ONE_OF)
    checked = validator.validate(given)
    assert not checked.error_messages, checked.error_messages
    return checked.validated_parameters


def spec_of(**overrides):
    return container_spec(params(**overrides))


# ---------------------------------------------------------------------------------------------------- the spec

def test_the_spec_and_the_build_key_are_those_of_build():
    spec, credentials = spec_of()
    pod_spec = make_spec()
    assert credentials is None and spec.namespace is None and spec.keep_pod == 'never'
    assert build_key(spec, 'c' * 40) == build_key(pod_spec, 'c' * 40)
    assert podman_args.kaniko_args(spec)[:3] == render.kaniko_args(pod_spec)[:3]


def test_the_checks_are_those_of_build():
    with pytest.raises(ValidationError) as caught:
        spec_of(destinations=['registry:5000/Rng'])
    assert caught.value.details['option'] == 'destinations[0]'
    with pytest.raises(ValidationError) as caught:
        spec_of(extra_args=['--destination=x:1'])
    assert caught.value.message == 'extra_args[0]: --destination is set through destinations, not extra_args'


@pytest.mark.parametrize('git, option', [
    (dict(repo='ssh://git@example.com/app.git'), 'git.key_file'),
    (dict(repo='ssh://git@example.com/app.git', key_file='/k', known_hosts_file='/h', token='t'), 'git.token'),
    (dict(repo='https://example.com/app.git', key_file='/k'), 'git.key_file'),
    (dict(repo='https://example.com/app.git', username='u'), 'git.password'),
    (dict(repo='https://example.com/app.git', token='t', password='p'), 'git.password'),
])
def test_git_credentials_that_do_not_fit_the_repository_are_refused(git, option):
    with pytest.raises(ValidationError) as caught:
        spec_of(git=git)
    assert caught.value.details['option'] == option


def test_git_credentials_stand_for_the_secret_of_build():
    spec, credentials = spec_of(git=dict(repo='https://example.com/app.git', token=TOKEN))
    assert spec.git.secret == 'git.token' and credentials.token == TOKEN
    assert TOKEN not in repr(spec) and TOKEN not in repr(credentials)


def test_registry_ca_is_a_file_of_the_host():
    spec, _credentials = spec_of(registry_ca=[dict(registry='registry.example.com', path='/etc/ssl/ca.pem')])
    assert spec.registry_ca[0].name == '/etc/ssl/ca.pem'
    with pytest.raises(ValidationError) as caught:
        spec_of(registry_ca=[dict(registry='registry.example.com', path='ca.pem')])
    assert caught.value.details['option'] == 'registry_ca[0].path'


# ---------------------------------------------------------------------------------------------------- podman's arguments

def test_the_container_has_the_privileges_of_the_kaniko_container_and_no_more():
    spec, _credentials = spec_of()
    args = podman_args.create_args(spec, 'kiln-build-abc123', 'run1', '/tmp/kiln-x', 'slirp4netns', LIMITS)
    assert '--cap-drop=ALL' in args
    assert '--cap-add=' + ','.join(render.KANIKO_CAPABILITIES) in args
    assert '--security-opt=no-new-privileges' in args
    assert not [arg for arg in args if 'privileged' in arg or 'seccomp' in arg or arg == '--rm']
    assert '--network=slirp4netns' in args and '--pull=missing' in args
    assert '--label=kiln.kaniko/run=run1' in args and '--name=kiln-build-abc123' in args
    assert args[args.index(spec.executor_image) + 1:] == podman_args.kaniko_args(spec)


def test_the_limits_are_the_modules_own_and_nproc_stays_under_conmons():
    assert podman_args.ulimits((1024, 20000), (4096, 96363)) == ['--ulimit=nofile=1024:20000', '--ulimit=nproc=4096:32768']
    assert podman_args.ulimits((-1, -1), (-1, -1)) == ['--ulimit=nofile=1048576:1048576', '--ulimit=nproc=32768:32768']


def test_mounts_source_read_only_and_the_digest_file_in_a_private_directory():
    spec, _credentials = spec_of(registry_auth=[dict(server='registry:5000', username='ci', password=PASSWORD)],
                                 registry_ca=[dict(registry='registry.example.com', path='/etc/ssl/ca.pem')])
    mounts = podman_args.mounts(spec, '/tmp/kiln-x')
    assert mounts == [
        ('/tmp/kiln-x/src', '/workspace/src', True),
        ('/tmp/kiln-x/digest', '/kiln/digest', False),
        ('/tmp/kiln-x/docker', '/kaniko/.docker', True),
        ('/tmp/kiln-x/ca/0/ca.crt', '/kaniko/ssl/kiln/0/ca.crt', True),
    ]
    args = podman_args.create_args(spec, 'n', 'r', '/tmp/kiln-x', 'host', LIMITS)
    assert '--image-name-with-digest-file=/kiln/digest/image' in args
    assert '--registry-certificate=registry.example.com=/kaniko/ssl/kiln/0/ca.crt' in args
    assert not [arg for arg in args if PASSWORD in arg or 'termination-log' in arg or arg.startswith('--env')]


def test_a_tarball_goes_to_its_own_private_directory():
    spec, _credentials = spec_of(tarball=dict(dest='/tmp/app.tar'))
    assert ('/tmp/kiln-x/out', '/kiln/out', False) in podman_args.mounts(spec, '/tmp/kiln-x')
    assert '--tar-path=/kiln/out/image.tar' in podman_args.kaniko_args(spec)


# ---------------------------------------------------------------------------------------------------- state -> outcome

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
