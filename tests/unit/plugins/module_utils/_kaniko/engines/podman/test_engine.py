# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ContainerEngine against the fake podman (fake_podman.py), which answers as podman 4.3.1 did in the recordings
(fixtures/recorded/podman): a container that ran ends with its exit code and the digest Kaniko wrote; one podman could
not create or start fails on the next look with podman's own words; a removed build leaves no container and no
private directory; the watch advances the builds on the injected clock; a git source is cloned on the host first."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import warnings

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Workload
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import cli
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.engine import ContainerEngine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.host_files import HostSecrets
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import TransferError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.container_build import container_spec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.git_url import GitRemote
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import RegistryCA, RegistryCredential
from ansible_collections.kiln.kaniko.plugins.modules import container_build
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko import fake_podman
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.spec.test_container_build import params

LIMITS = ((1024, 20000), (4096, 96363))
RUN_ID = 'run1'
PASSWORD = 'not-a-real-registry-password'
TOKEN = 'ghp_not-a-real-token'
CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'


def local_spec(context):
    validator = ArgumentSpecValidator(container_build.argument_spec(),
                                      mutually_exclusive=container_build.MUTUALLY_EXCLUSIVE,
                                      required_one_of=container_build.REQUIRED_ONE_OF)
    checked = validator.validate(dict(local_context=dict(path=str(context)), destinations=['registry:5000/app:1'],
                                      insecure=True, image_pull_policy='Never'))
    assert not checked.error_messages, checked.error_messages
    return container_spec(checked.validated_parameters)[0]


def context_tar(tmp_path):
    path = tmp_path / 'context.tar'
    data = b'FROM scratch\n'
    with tarfile.open(str(path), 'w') as archive:
        member = tarfile.TarInfo('Dockerfile')
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return str(path), os.path.getsize(str(path))


class Started(object):
    """One build of the engine, taken to where ``podman start --attach`` (or ``create``) has ended."""

    def __init__(self, tmp_path, scenario):
        (tmp_path / 'podman').mkdir()
        (tmp_path / 'context').mkdir()
        self.podman = fake_podman.install(tmp_path / 'podman', scenario)
        self.engine = ContainerEngine(self.podman.path, None, 'slirp4netns', limits=lambda: LIMITS)
        workload = self.engine.create(local_spec(tmp_path / 'context'), Workload(None), None, RUN_ID)
        self.name = workload.pod_name
        self.box = self.engine.boxes[self.name]
        # log_lines: 0 keeps no line for the result; podman's words must come through all the same.
        self.engine.follow_logs(None, self.name, ['kaniko'], None, '', 0)
        self.engine.send_file(None, self.name, render.RECEIVE, None, *context_tar(tmp_path))
        assert self.engine.advance(self.box)  # the context is in: podman create, podman start --attach
        if self.box.attach is not None:
            self.box.attach.wait(30)

    def look(self):
        return self.engine.advance(self.box)

    def outcome(self):
        return self.engine.explain(states.classify(self.box.pod()))

    def delete(self):
        warnings = []
        self.engine.delete('pod', None, self.name, True, warnings.append)
        return warnings


@pytest.fixture
def started(tmp_path):
    builds = []

    def start(scenario):
        build = Started(tmp_path, scenario)
        builds.append(build)
        return build
    yield start
    for build in builds:
        build.engine.close(lambda message: None)


class Clock(object):
    """The engine's clock and sleep: time passes only when the engine sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def git_build(url, version='HEAD', **credentials):
    """(spec, GitCredentials) of a build of the git repository at ``url`` (file://, which git.repo refuses: a remote
    made by hand) with the git options ``credentials``."""
    spec, found = container_spec(params(git=dict(repo='https://git.example.com/app.git', version=version, **credentials)))
    remote = GitRemote(url=url, transport='git', host='localhost', path=url[len('file://'):])
    return dataclasses.replace(spec, git=dataclasses.replace(spec.git, repo=remote)), found


@pytest.fixture(scope='module')
def origin(tmp_path_factory):
    """A repository with a Dockerfile on main: its file:// URL and its commit."""
    repo = tmp_path_factory.mktemp('origin')
    env = dict(os.environ, HOME=str(repo), GIT_CONFIG_NOSYSTEM='1', GIT_AUTHOR_NAME='kiln',
               GIT_AUTHOR_EMAIL='kiln@example.invalid', GIT_COMMITTER_NAME='kiln', GIT_COMMITTER_EMAIL='kiln@example.invalid')

    def git(*args):
        return subprocess.run(['git', '-c', 'init.defaultBranch=main'] + list(args), cwd=str(repo), env=env, check=True,
                              capture_output=True, text=True).stdout.strip()
    git('init', '-q')
    (repo / 'Dockerfile').write_text('FROM scratch\n')
    git('add', 'Dockerfile')
    git('commit', '-q', '-m', 'one')
    return dict(url='file://' + str(repo), commit=git('rev-parse', 'HEAD'))


def test_a_container_podman_could_not_start_fails_on_the_next_look_and_is_removed(started):
    build = started('start_failed_no_slirp4netns')
    assert build.box.attach.returncode == 125
    assert build.look()
    outcome = build.outcome()
    assert (outcome.state, outcome.reason, outcome.container) == (states.FAILED, 'RunContainerError', 'kaniko')
    assert outcome.message.startswith('podman start {0} exited with status 125: Error: unable to start '
                                      'container'.format(build.name))
    assert 'could not find slirp4netns' in outcome.message and 'apt-get install slirp4netns' in outcome.hint
    assert build.podman.commands() == ['create', 'start', 'inspect']
    workdir = build.box.workdir
    assert os.path.isdir(workdir)
    assert build.delete() == []
    assert build.podman.commands()[-1] == 'rm' and not os.path.exists(workdir)


def test_a_network_podman_does_not_know_fails_at_create_and_nothing_is_started(started):
    build = started('create_failed_no_network')
    assert build.box.attach is None
    outcome = build.outcome()
    assert outcome.reason == 'CreateContainerError'
    assert 'unable to find network with name or ID no-such-net' in outcome.message and build.name in outcome.message
    assert not build.look()
    build.delete()
    assert build.podman.commands() == ['create', 'rm'] and not os.path.exists(build.box.workdir)


def test_a_container_that_ran_ends_with_its_exit_code_and_its_log(started):
    build = started('exited_3')
    assert build.look()
    outcome = build.outcome()
    assert (outcome.state, outcome.exit_code, outcome.reason) == (states.FAILED, 3, 'Error')
    assert build.box.log.last('kaniko') == ['error building image: step failed']


def test_a_container_someone_else_removed_is_named_as_deleted(started):
    build = started('exited_0')
    build.podman.remove_behind_the_engines_back()
    assert build.look()
    outcome = build.outcome()
    assert outcome.reason == states.DELETED
    assert outcome.message.startswith('container {0} was deleted by someone else'.format(build.name))


def test_a_container_that_ran_to_its_end_succeeds_with_the_digest_kaniko_wrote(started):
    build = started('exited_0')
    digest = 'registry:5000/app:1@sha256:' + 'c' * 64
    with open(os.path.join(build.box.workdir, cli.DIGEST, os.path.basename(cli.DIGEST_FILE)), 'w') as out:
        out.write(digest + '\n')
    assert build.look()
    outcome = build.outcome()
    assert (outcome.state, outcome.container) == (states.SUCCEEDED, 'kaniko')
    assert states.parse_termination(states.container_termination(build.box.pod(), 'kaniko')['message']) == (
        'sha256:' + 'c' * 64, [digest])
    assert build.box.log.last('kaniko') == ['built']
    assert not build.look()  # concluded: nothing more to look at
    create = build.podman.calls()[0]
    assert '--name=' + build.name in create and '--label=kiln.kaniko/run=' + RUN_ID in create
    assert '--mount=type=bind,source={0}/src,target=/workspace/src,ro=true'.format(build.box.workdir) in create
    assert build.podman.calls()[1:] == [['start', '--attach', build.name],
                                        ['inspect', '--type=container', '--format={{json .State}}', build.name]]


def test_an_executor_image_without_the_executor_fails_with_podman_s_words_and_what_to_give(started):
    build = started('start_failed_no_executable')
    assert build.look()
    outcome = build.outcome()
    assert (outcome.state, outcome.reason, outcome.container) == (states.FAILED, 'RunContainerError', 'kaniko')
    assert outcome.message.startswith('podman start {0} exited with status 125: Error: unable to start container '
                                      .format(build.name))
    assert 'stat /kaniko/executor: no such file or directory' in outcome.message
    assert outcome.hint.startswith('executor_image lacks the command podman runs')


def test_removal_leaves_no_container_and_no_private_directory(started):
    build = started('exited_3')
    assert build.look()
    workdir = build.box.workdir
    assert build.podman.containers() == [build.name]
    assert build.delete() == []
    assert build.podman.calls()[-1] == ['rm', '--force', '--time=0', build.name]
    assert build.podman.containers() == [] and not os.path.exists(workdir)
    assert not build.engine.exists(None, build.name)
    assert build.box.pod()['metadata']['deletionTimestamp'] and not build.look()


def test_the_end_of_a_run_removes_its_containers_and_directories_also_a_container_it_has_no_build_for(tmp_path):
    (tmp_path / 'podman').mkdir()
    podman = fake_podman.install(tmp_path / 'podman', 'exited_0')
    engine = ContainerEngine(podman.path, None, 'host', limits=lambda: LIMITS)
    names = []
    for _build in range(2):
        name = engine.create(local_spec(tmp_path), Workload(None), None, RUN_ID).pod_name
        engine.send_file(None, name, render.RECEIVE, None, *context_tar(tmp_path))
        assert engine.advance(engine.boxes[name])
        engine.boxes[name].attach.wait(30)
        names.append(name)
    other = engine.create(local_spec(tmp_path), Workload(None), None, 'run2').pod_name
    # A container of the run that this process has no build for (its create timed out, say), and one of another run.
    for name, run_id in (('kiln-build-stray', RUN_ID), ('kiln-build-elsewhere', 'run2')):
        subprocess.run([podman.path, 'create', '--name=' + name, '--label=kiln.kaniko/run=' + run_id, 'busybox'],
                       check=True, capture_output=True)
    workdirs = [engine.boxes[name].workdir for name in names + [other]]
    assert podman.containers() == sorted(names + ['kiln-build-elsewhere', 'kiln-build-stray'])
    engine.delete_run(None, RUN_ID, None, None)
    assert podman.containers() == ['kiln-build-elsewhere']
    assert [os.path.exists(workdir) for workdir in workdirs] == [False, False, True]
    engine.close(None)
    assert not os.path.exists(workdirs[2])
    assert podman.containers() == ['kiln-build-elsewhere']  # the build of run2 never made a container


def test_the_private_directory_is_the_builds_alone_with_its_credentials_in_0600_files(tmp_path):
    ca = tmp_path / 'ca.pem'
    ca.write_text(CA_PEM)
    spec = dataclasses.replace(local_spec(tmp_path), registry_auth=(
        RegistryCredential(server='registry:5000', username='ci', password=PASSWORD),), registry_ca=(
        RegistryCA(registry='registry.example.com', kind='File', name=str(ca), key=''),))
    engine = ContainerEngine('/nonexistent/podman', HostSecrets(), 'host', limits=lambda: LIMITS)
    name = engine.create(spec, Workload(None), None, RUN_ID).pod_name
    workdir = engine.boxes[name].workdir
    try:
        assert stat.S_IMODE(os.stat(workdir).st_mode) == 0o700
        config = os.path.join(workdir, cli.DOCKER_CONFIG, render.CONFIG_JSON)
        copied = cli.ca_file(workdir, 0)
        assert [stat.S_IMODE(os.stat(path).st_mode) for path in (config, copied)] == [0o600, 0o600]
        with open(config) as handle:
            assert json.load(handle)['auths']['registry:5000']['auth'] == base64.b64encode(
                ('ci:' + PASSWORD).encode()).decode()
        with open(copied) as handle:
            assert handle.read() == CA_PEM
    finally:
        engine.close(None)
    assert not os.path.exists(workdir)


def test_the_watch_advances_the_builds_on_each_look_and_waits_on_the_injected_clock(tmp_path):
    (tmp_path / 'podman').mkdir()
    podman = fake_podman.install(tmp_path / 'podman', 'exited_3')
    clock = Clock()
    engine = ContainerEngine(podman.path, None, 'host', sleep=clock.sleep, clock=clock, limits=lambda: LIMITS)
    name = engine.create(local_spec(tmp_path), Workload(None), None, RUN_ID).pod_name
    watch = engine.watch(None, RUN_ID).start()
    try:
        assert watch.next(2) is None  # the context is not in yet: nothing moves
        assert clock.slept == [0.5, 0.5, 0.5, 0.5] and podman.calls() == []
        engine.send_file(None, name, render.RECEIVE, None, *context_tar(tmp_path))
        _namespace, kind, pod = watch.next(2)
        assert (kind, states.classify(pod).state) == ('MODIFIED', states.RUNNING)
        engine.boxes[name].attach.wait(30)
        _namespace, kind, pod = watch.next(2)
        assert states.classify(pod).exit_code == 3
    finally:
        watch.stop()
        engine.close(None)


def test_a_context_tar_with_an_entry_that_leaves_the_context_is_refused(tmp_path):
    engine = ContainerEngine('/nonexistent/podman', None, 'host', limits=lambda: LIMITS)
    name = engine.create(local_spec(tmp_path), Workload(None), None, RUN_ID).pod_name
    path = tmp_path / 'evil.tar'
    with tarfile.open(str(path), 'w') as archive:
        member = tarfile.TarInfo('../escaped')
        member.size = 1
        archive.addfile(member, io.BytesIO(b'x'))
    try:
        with pytest.raises(TransferError) as caught:
            engine.send_file(None, name, render.RECEIVE, None, str(path), os.path.getsize(str(path)))
        assert "unexpected entry '../escaped'" in caught.value.message
        assert not engine.boxes[name].received
        assert not os.path.exists(os.path.join(engine.boxes[name].workdir, cli.SOURCE, '..', 'escaped'))
    finally:
        engine.close(None)


def test_an_entry_under_a_symbolic_link_of_the_same_tar_is_refused(tmp_path):
    """A link to a folder outside, then a file through it: each entry alone passes the name checks."""
    engine = ContainerEngine('/nonexistent/podman', None, 'host', limits=lambda: LIMITS)
    name = engine.create(local_spec(tmp_path), Workload(None), None, RUN_ID).pod_name
    outside = tmp_path / 'outside'
    outside.mkdir()
    path = tmp_path / 'evil.tar'
    with tarfile.open(str(path), 'w') as archive:
        link = tarfile.TarInfo('sub/out')
        link.type = tarfile.SYMTYPE
        link.linkname = str(outside)
        archive.addfile(link)
        member = tarfile.TarInfo('sub/out/planted')
        member.size = 1
        archive.addfile(member, io.BytesIO(b'x'))
    try:
        with pytest.raises(TransferError) as caught:
            engine.send_file(None, name, render.RECEIVE, None, str(path), os.path.getsize(str(path)))
        assert "unexpected entry 'sub/out/planted'" in caught.value.message
        assert not (outside / 'planted').exists()
    finally:
        engine.close(None)


def test_a_symbolic_link_to_an_absolute_path_and_modes_are_kept(tmp_path):
    """As the pod's `tar -x` keeps them, and not as Python 3.14's default filter would ('data': refused, cleared)."""
    engine = ContainerEngine('/nonexistent/podman', None, 'host', limits=lambda: LIMITS)
    name = engine.create(local_spec(tmp_path), Workload(None), None, RUN_ID).pod_name
    path = tmp_path / 'context.tar'
    with tarfile.open(str(path), 'w') as archive:
        link = tarfile.TarInfo('sh')
        link.type = tarfile.SYMTYPE
        link.linkname = '/bin/sh'
        archive.addfile(link)
        member = tarfile.TarInfo('shared')
        member.size = 1
        member.mode = 0o775
        archive.addfile(member, io.BytesIO(b'x'))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', DeprecationWarning)
            engine.send_file(None, name, render.RECEIVE, None, str(path), os.path.getsize(str(path)))
        source = os.path.join(engine.boxes[name].workdir, cli.SOURCE)
        assert os.readlink(os.path.join(source, 'sh')) == '/bin/sh'
        assert os.stat(os.path.join(source, 'shared')).st_mode & 0o777 == 0o775
    finally:
        engine.close(None)


@pytest.mark.skipif(shutil.which('git') is None, reason='needs git')
def test_a_git_source_is_cloned_on_the_host_into_the_private_directory_then_built(tmp_path, origin):
    (tmp_path / 'podman').mkdir()
    podman = fake_podman.install(tmp_path / 'podman', 'exited_0')
    engine = ContainerEngine(podman.path, None, 'host', limits=lambda: LIMITS)
    box = engine.boxes[engine.create(git_build(origin['url'])[0], Workload(None), None, RUN_ID).pod_name]
    try:
        assert not engine.advance(box)  # the clone runs
        box.clone.wait(60)
        assert engine.advance(box)      # it ended: the container is created and started
        box.attach.wait(30)
        clone = states.container_termination(box.pod(), 'clone')
        assert (clone['exitCode'], clone['message']) == (0, origin['commit'])
        with open(os.path.join(box.workdir, cli.SOURCE, 'Dockerfile')) as handle:
            assert handle.read() == 'FROM scratch\n'
        assert box.log.last('clone') and podman.commands() == ['create', 'start']
    finally:
        engine.close(None)


@pytest.mark.skipif(shutil.which('git') is None, reason='needs git')
def test_a_clone_that_fails_fails_the_build_in_container_clone_and_no_container_is_made(tmp_path, origin):
    (tmp_path / 'podman').mkdir()
    podman = fake_podman.install(tmp_path / 'podman', 'exited_0')
    engine = ContainerEngine(podman.path, None, 'host', limits=lambda: LIMITS)
    box = engine.boxes[engine.create(git_build(origin['url'], version='no-such-branch')[0], Workload(None), None,
                                     RUN_ID).pod_name]
    try:
        engine.advance(box)
        box.clone.wait(60)
        assert engine.advance(box)
        outcome = engine.explain(states.classify(box.pod()))
        assert (outcome.state, outcome.container, outcome.exit_code) == (states.FAILED, 'clone', 1)
        assert 'no-such-branch' in outcome.message and 'git.version' in outcome.hint
        assert podman.calls() == []
    finally:
        engine.close(None)


@pytest.mark.skipif(shutil.which('git') is None, reason='needs git')
def test_the_git_credentials_reach_the_clone_as_the_files_of_a_secret_and_go_with_the_build(tmp_path, origin):
    (tmp_path / 'podman').mkdir()
    podman = fake_podman.install(tmp_path / 'podman', 'exited_0')
    spec, credentials = git_build(origin['url'], token=TOKEN)
    engine = ContainerEngine(podman.path, HostSecrets(credentials), 'host', limits=lambda: LIMITS)
    name = engine.create(spec, Workload(None), None, RUN_ID).pod_name
    box = engine.boxes[name]
    log = engine.follow_logs(None, name, ['clone', 'kaniko'], None, '', 50)
    try:
        engine.advance(box)
        box.clone.wait(60)
        secret_dir = os.path.join(box.workdir, 'git-secret')
        assert os.listdir(secret_dir) == ['token']
        assert stat.S_IMODE(os.stat(os.path.join(secret_dir, 'token')).st_mode) == 0o600
        with open(os.path.join(secret_dir, 'token')) as handle:
            assert handle.read() == TOKEN + '\n'
        assert engine.advance(box)
        box.attach.wait(30)
        lines = log.finish()
        assert "kiln clone: token from Secret 'git.token'" in lines and 'kiln clone: checked out ' + origin['commit'] in lines
        assert not [line for line in lines if TOKEN in line]
    finally:
        engine.close(None)
    assert not os.path.exists(box.workdir)
