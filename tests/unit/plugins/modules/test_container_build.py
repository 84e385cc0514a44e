# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""main() of kiln.kaniko.container_build up to the point where it would need a working podman: a host that cannot
run the build fails at once, before anything is made, with the keys of a failed build."""

from __future__ import annotations

import os

import pytest

from ansible_collections.kiln.kaniko.plugins.modules import container_build
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko import fake_podman
from ansible_collections.kiln.kaniko.tests.unit.plugins.modules import module_args

BASE = dict(git=dict(repo='https://github.com/jpetazzo/container.training'), context_sub_path='dockercoins/rng',
            destinations=['registry:5000/rng:latest'], insecure=True)


def run_main(capsys, args, check_mode=False):
    return module_args.run_main(capsys, container_build.main, args, check_mode)


@pytest.fixture
def host(tmp_path, monkeypatch):
    """PATH of a directory alone, which holds a fake podman when asked to; the temporary directory is watched."""
    (tmp_path / 'bin').mkdir()
    (tmp_path / 'tmp').mkdir()
    monkeypatch.setenv('PATH', str(tmp_path / 'bin'))
    monkeypatch.setattr('tempfile.tempdir', str(tmp_path / 'tmp'))

    def podman(recording):
        return fake_podman.install(tmp_path / 'bin', 'exited_0', host=recording)
    podman.made = lambda: os.listdir(str(tmp_path / 'tmp'))
    return podman


@pytest.mark.parametrize('check_mode', [False, True])
def test_without_podman_the_task_fails_before_anything_is_made(capsys, host, check_mode):
    result = run_main(capsys, dict(BASE), check_mode=check_mode)
    assert result['failed'] is True and result['changed'] is False
    assert (result['reason'], result['rc'], result['container']) == ('PodmanNotFound', None, None)
    assert result['msg'].startswith('Build failed (PodmanNotFound): podman is not installed on the host that runs '
                                    'the module')
    assert 'install podman 4.0 or later' in result['hint'] and result['hint'] in result['msg']
    assert host.made() == []


def test_a_podman_without_slirp4netns_fails_before_anything_is_made(capsys, host):
    podman = host('host_no_slirp4netns')
    result = run_main(capsys, dict(BASE))
    assert result['failed'] is True and result['changed'] is False
    assert result['reason'] == 'NetworkHelperNotFound'
    assert 'finds no slirp4netns, which network: slirp4netns needs' in result['msg']
    assert 'apt-get install slirp4netns' in result['hint'] and 'network: host' in result['hint']
    assert podman.commands() == ['--version', 'info'] and host.made() == []
