# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""identify: the commit, the build key and the skip decision of a local context and of a tarball."""

from __future__ import annotations

import dataclasses
import json
import tarfile

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity import build_key
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity import decide
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.decide import identify
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    local,
    make_spec,
    packed,
)


class Lookup(object):
    def __init__(self, labels):
        self.labels = labels

    def existing(self, spec, destination, ref):
        return build_key.Existing(destination, ref.name, self.labels, 'sha256:' + '1' * 64)


def test_a_local_context_is_skipped_when_the_registry_holds_its_key():
    spec = packed(local())
    key = build_key.build_key(spec, None)
    decision = identify(spec, None, Lookup({'io.kiln.build-key': key}))
    assert decision.skip and decision.commit is None
    assert 'context sha256:abababababab' in decision.detail
    assert identify(spec, None, Lookup({'io.kiln.build-key': 'sha256:other'})).check == build_key.MISSING


def docker_archive(path, labels):
    config = json.dumps({'config': {'Labels': labels}}).encode()
    manifest = json.dumps([{'Config': 'sha256:c', 'RepoTags': ['a:1'], 'Layers': []}]).encode()
    with tarfile.open(str(path), 'w') as archive:
        for name, data in (('sha256:c', config), ('manifest.json', manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, __import__('io').BytesIO(data))


def test_a_tarball_dest_that_holds_the_build_is_skipped(tmp_path):
    dest = tmp_path / 'app.tar'
    spec = make_spec(tarball=dict(dest=str(dest)))
    resolver = type('R', (), {'resolve': lambda self, namespace, git: 'a' * 40})()
    assert identify(spec, resolver, None).check == build_key.MISSING
    key = build_key.build_key(spec, 'a' * 40)
    docker_archive(dest, {'io.kiln.build-key': key})
    decision = identify(spec, resolver, None)
    assert decision.skip and decision.tarball['path'] == str(dest)
    assert decision.tarball['size'] == dest.stat().st_size and len(decision.tarball['sha256']) == 64
    docker_archive(dest, {'io.kiln.build-key': 'sha256:other'})
    assert identify(spec, resolver, None).check == build_key.MISSING
    dest.write_bytes(b'not a tar')
    assert decide.read_tarball(str(dest))[0] == {}
    assert identify(spec, resolver, None).check == build_key.MISSING
    assert identify(dataclasses.replace(spec, force=True), resolver, None).check == build_key.FORCED


def test_a_tarball_on_a_claim_always_builds():
    spec = make_spec(tarball=dict(pvc='c', path='a.tar'))
    resolver = type('R', (), {'resolve': lambda self, namespace, git: 'a' * 40})()
    assert identify(spec, resolver, None).check == build_key.UNAVAILABLE
