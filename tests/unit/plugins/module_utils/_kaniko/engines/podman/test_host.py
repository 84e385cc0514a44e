# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""container_host: whether podman can run a build container here, asked of podman before anything is made, on
what podman 4.3.1 answered (fixtures/recorded/podman/host*.json, made by tests/lab/record_podman.py)."""

from __future__ import annotations

import json
import subprocess

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import host
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import PodmanUnavailable
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture

PODMAN = '/usr/bin/podman'


class Podman(object):
    """``run`` for check(): answers as recording ``host`` did, or with what a test gives; keeps the words asked."""

    def __init__(self, recording='host', version=None, info=None):
        self.recorded = load_fixture('recorded/podman/{0}.json'.format(recording))
        self.version = version or self.recorded['version']
        self.info = info or dict(returncode=0, stdout=json.dumps(self.recorded['info']), stderr='')
        self.asked = []

    def __call__(self, words):
        self.asked.append(words[0])
        answer = self.version if words[0] == '--version' else self.info
        return subprocess.CompletedProcess([PODMAN] + words, answer['returncode'], answer['stdout'], answer['stderr'])


def refused(podman, network='slirp4netns', run=None):
    with pytest.raises(PodmanUnavailable) as caught:
        host.check(podman, network, run or Podman(), path='/usr/local/bin:/usr/bin:/bin')
    return caught.value


@pytest.mark.parametrize('text, version', [
    ('podman version 4.3.1\n', (4, 3, 1)),
    ('podman version 5.0.0-dev\n', (5, 0, 0)),
    ('podman-remote version 4.9.3\n', (4, 9, 3)),
    ('podman version 4.4\n', (4, 4, 0)),
    ('usage: podman [options]\n', None),
])
def test_the_version_podman_says(text, version):
    assert host.parse_version(text) == version


@pytest.mark.parametrize('network, helper', [
    ('slirp4netns', 'slirp4netns'), ('slirp4netns:mtu=1500,port_handler=slirp4netns', 'slirp4netns'),
    ('pasta', 'pasta'), ('pasta:--ipv4-only', 'pasta'),
    ('host', None), ('none', None), ('bridge', None), ('builds', None), ('container:abc', None),
])
def test_which_networks_need_a_helper_program(network, helper):
    assert host.network_helper(network) == helper


def test_bookworms_podman_with_slirp4netns_can_build():
    podman = Podman('host')
    assert host.check(PODMAN, 'slirp4netns', podman) == (4, 3, 1)
    assert podman.asked == ['--version', 'info']


def test_a_podman_that_finds_no_slirp4netns_is_refused_before_anything_is_made():
    error = refused(PODMAN, run=Podman('host_no_slirp4netns'))
    assert error.details == dict(reason='NetworkHelperNotFound', rc=None, container=None, hint=(
        'install the slirp4netns package (e.g. apt-get install slirp4netns) on the host that runs the module, or '
        'set network: host'))
    assert error.message.startswith('Build failed (NetworkHelperNotFound): /usr/bin/podman finds no slirp4netns, '
                                    'which network: slirp4netns needs: podman info names no '
                                    'host.slirp4netns.executable')
    assert error.message.endswith('(hint: {0})'.format(error.details['hint']))


def test_networks_without_a_helper_do_not_ask_for_one():
    podman = Podman('host_no_slirp4netns')
    assert host.check(PODMAN, 'host', podman) == (4, 3, 1)
    assert podman.asked == ['--version']


def test_a_helper_podman_does_not_report_is_left_to_podman_start():
    # podman 4.3.1 knows no pasta: its info has no host.pasta, and its create says so itself.
    assert host.check(PODMAN, 'pasta', Podman('host_no_slirp4netns')) == (4, 3, 1)


def test_no_podman_says_where_it_was_looked_for():
    error = refused(None)
    assert error.details['reason'] == 'PodmanNotFound'
    assert 'not on PATH (/usr/local/bin:/usr/bin:/bin) nor in /sbin, /usr/sbin, /usr/local/sbin' in error.message
    assert error.details['hint'].startswith('install podman 4.0 or later on the host that runs the module')


def test_a_podman_older_than_4_is_refused_with_the_reason():
    error = refused(PODMAN, run=Podman(version=dict(returncode=0, stdout='podman version 3.4.4\n', stderr='')))
    assert error.details['reason'] == 'PodmanTooOld'
    assert '/usr/bin/podman is podman 3.4.4; kiln.kaniko.container_build needs podman 4.0 or later' in error.message
    assert 'podman rm --time' in error.details['hint']


def test_a_podman_that_fails_is_refused_with_its_own_words():
    broken = dict(returncode=125, stdout='', stderr='Error: database state not found: run podman system reset\n')
    error = refused(PODMAN, run=Podman(info=broken))
    assert error.details['reason'] == 'PodmanFailed'
    assert 'podman info exited with status 125: Error: database state not found' in error.message
    error = refused(PODMAN, run=Podman(version=dict(returncode=0, stdout='what?\n', stderr='')))
    assert error.details['reason'] == 'PodmanFailed' and "printed 'what?'" in error.message
