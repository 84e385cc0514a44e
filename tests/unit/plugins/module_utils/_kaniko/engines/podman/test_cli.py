# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The podman create arguments of a build container: the privileges of the kaniko container and no more, the
module's own limits, the mounts of its private directory."""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import cli
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.spec.test_container_build import spec_of

PASSWORD = 'hunter2-registry-password'
LIMITS = ((1024, 20000), (4096, 96363))


def test_the_container_has_the_privileges_of_the_kaniko_container_and_no_more():
    spec, _credentials = spec_of()
    args = cli.create_args(spec, 'kiln-build-abc123', 'run1', '/tmp/kiln-x', 'slirp4netns', LIMITS)
    assert '--cap-drop=ALL' in args
    assert '--cap-add=' + ','.join(render.KANIKO_CAPABILITIES) in args
    assert '--security-opt=no-new-privileges' in args
    assert not [arg for arg in args if 'privileged' in arg or 'seccomp' in arg or arg == '--rm']
    assert '--network=slirp4netns' in args and '--pull=missing' in args
    assert '--label=kiln.kaniko/run=run1' in args and '--name=kiln-build-abc123' in args
    assert args[args.index(spec.executor_image) + 1:] == cli.kaniko_args(spec)


def test_the_limits_are_the_modules_own_and_nproc_stays_under_conmons():
    assert cli.ulimits((1024, 20000), (4096, 96363)) == ['--ulimit=nofile=1024:20000', '--ulimit=nproc=4096:32768']
    assert cli.ulimits((-1, -1), (-1, -1)) == ['--ulimit=nofile=1048576:1048576', '--ulimit=nproc=32768:32768']


def test_mounts_source_read_only_and_the_digest_file_in_a_private_directory():
    spec, _credentials = spec_of(registry_auth=[dict(server='registry:5000', username='ci', password=PASSWORD)],
                                 registry_ca=[dict(registry='registry.example.com', path='/etc/ssl/ca.pem')])
    mounts = cli.mounts(spec, '/tmp/kiln-x')
    assert mounts == [
        ('/tmp/kiln-x/src', '/workspace/src', True),
        ('/tmp/kiln-x/digest', '/kiln/digest', False),
        ('/tmp/kiln-x/docker', '/kaniko/.docker', True),
        ('/tmp/kiln-x/ca/0/ca.crt', '/kaniko/ssl/kiln/0/ca.crt', True),
    ]
    args = cli.create_args(spec, 'n', 'r', '/tmp/kiln-x', 'host', LIMITS)
    assert '--image-name-with-digest-file=/kiln/digest/image' in args
    assert '--registry-certificate=registry.example.com=/kaniko/ssl/kiln/0/ca.crt' in args
    assert not [arg for arg in args if PASSWORD in arg or 'termination-log' in arg or arg.startswith('--env')]


def test_a_tarball_goes_to_its_own_private_directory():
    spec, _credentials = spec_of(tarball=dict(dest='/tmp/app.tar'))
    assert ('/tmp/kiln-x/out', '/kiln/out', False) in cli.mounts(spec, '/tmp/kiln-x')
    assert '--tar-path=/kiln/out/image.tar' in cli.kaniko_args(spec)
