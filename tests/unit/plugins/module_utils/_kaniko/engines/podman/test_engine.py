# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ContainerEngine against the fake podman (fake_podman.py), which answers as podman 4.3.1 did in the recordings:
a container podman could not start fails on the look after ``podman start`` ended, with podman's own words, and
is removed with its private directory; one that ran ends with its exit code; one someone else removed is named so."""

from __future__ import annotations

import io
import os
import tarfile

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.engine import Workload
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.engine import ContainerEngine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.container_build import container_spec
from ansible_collections.kiln.kaniko.plugins.modules import container_build
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko import fake_podman

LIMITS = ((1024, 20000), (4096, 96363))
RUN_ID = 'run1'


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
