# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import InvalidReference
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import parse_reference, validate_digest

DIGEST = 'sha256:' + 'a' * 64


@pytest.mark.parametrize('text, expected', [
    ('198.51.100.2:5000/team/app:1.0', ('198.51.100.2:5000', 'team/app', '1.0', None)),
    ('registry.example.com/app', ('registry.example.com', 'app', 'latest', None)),
    ('localhost/app:v2', ('localhost', 'app', 'v2', None)),
    ('localhost:5000/a/b/c:x_y.z-1', ('localhost:5000', 'a/b/c', 'x_y.z-1', None)),
    ('registry:5000/app@' + DIGEST, ('registry:5000', 'app', None, DIGEST)),
    ('registry:5000/app:1.0@' + DIGEST, ('registry:5000', 'app', '1.0', DIGEST)),
    ('[fd00::1]:5000/app:1', ('[fd00::1]:5000', 'app', '1', None)),
    ('registry.svc.cluster.local:5000/my_app__x/a-b:latest',
     ('registry.svc.cluster.local:5000', 'my_app__x/a-b', 'latest', None)),
    # Docker Hub: no host component; official images are under library/.
    ('busybox', ('docker.io', 'library/busybox', 'latest', None)),
    ('busybox:1.35', ('docker.io', 'library/busybox', '1.35', None)),
    ('alpine/git:2.49.1', ('docker.io', 'alpine/git', '2.49.1', None)),
    ('docker.io/busybox', ('docker.io', 'library/busybox', 'latest', None)),
    ('index.docker.io/library/busybox', ('docker.io', 'library/busybox', 'latest', None)),
    ('  registry:5000/app  ', ('registry:5000', 'app', 'latest', None)),
])
def test_parse(text, expected):
    assert tuple(parse_reference(text)) == expected


def test_properties():
    ref = parse_reference('busybox@' + DIGEST)
    assert ref.api_host == 'registry-1.docker.io'
    assert ref.manifest_reference == DIGEST
    assert str(ref) == 'docker.io/library/busybox@' + DIGEST
    ref = parse_reference('r.example:443/a:b')
    assert (ref.api_host, ref.manifest_reference, str(ref)) == ('r.example:443', 'b', 'r.example:443/a:b')


@pytest.mark.parametrize('text, message', [
    ('', 'empty'),
    ('https://registry/app:1', 'no scheme'),
    ('registry:5000/App:1', "'App'"),
    ('registry:5000/app:', 'not a valid tag'),
    ('registry:5000/app:-x', 'not a valid tag'),
    ('registry:5000/app:' + 'x' * 129, 'not a valid tag'),
    ('registry:5000/a//b', "''"),
    ('registry:5000/app@sha256:abc', 'not a digest'),
    ('registry:5000/app@sha256:' + 'A' * 64, 'lower-case hex'),
    ('registry:5000/app@md5', 'not a digest'),
    ('bad_host.example:5000/app', 'host'),
    ('registry:5000/a b', 'no spaces'),
    ('r:1/' + 'a' * 260, 'longer than'),
])
def test_invalid(text, message):
    with pytest.raises(InvalidReference) as err:
        parse_reference(text)
    assert message in str(err.value)


def test_digest_other_algorithm_is_accepted():
    assert validate_digest('sha512:' + 'b' * 128)
    assert validate_digest('blake3:' + 'c' * 64)
