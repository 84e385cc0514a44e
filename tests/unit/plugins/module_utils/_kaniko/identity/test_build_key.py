# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The build key, the labels that carry it, and the skip decision: what is in the key (the options that decide the
image, a local context's hash, the names of build_secrets) and what is left out."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity import build_key
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    NETRC,
    TOKEN,
    local,
    make_spec,
    module_params,
    packed,
)

COMMIT = 'a' * 40
OTHER = 'b' * 40


def key(commit=COMMIT, **overrides):
    return build_key.build_key(make_spec(**overrides), commit)


def test_the_key_is_a_sha256_and_stable():
    assert re.match(r'^sha256:[0-9a-f]{64}$', key())
    assert key() == key()
    assert key(build_args={'A': '1', 'B': '2'}) == key(build_args={'B': '2', 'A': '1'})


@pytest.mark.parametrize('overrides', [
    dict(commit=OTHER),
    dict(context_sub_path='dockercoins/worker'),
    dict(dockerfile='Dockerfile.prod'),
    dict(build_args={'LAST': '2'}),
    dict(target='runtime'),
    dict(platform='linux/arm64'),
    dict(executor_image='gcr.io/kaniko-project/executor:v1.24.0'),
    dict(labels={'team': 'a'}),
    dict(extra_args=['--reproducible']),
    dict(git=dict(repo='https://github.com/jpetazzo/container.training', submodules=True)),
])
def test_what_decides_the_image_changes_the_key(overrides):
    assert key(**overrides) != key()


@pytest.mark.parametrize('overrides', [
    dict(destinations=['registry:5000/elsewhere:2']),
    dict(namespace='other', name='rng'),
    dict(cache=False),
    dict(cache_repo='registry:5000/cache', cache_ttl='1h'),
    dict(timeout=60, keep_pod='never', log_lines=5),
    dict(pod=dict(resources=dict(limits={'memory': '4Gi'}))),
    dict(registry_secret='push'),
    dict(git=dict(repo='https://mirror.example.com/container.training.git', version='main', depth=0)),
    dict(force=True),
    dict(insecure=False, insecure_registries=['registry:5000'], registry_mirrors=['mirror.gcr.io']),
])
def test_where_and_how_fast_do_not_change_the_key(overrides):
    assert key(**overrides) == key()


def test_with_identity_labels_the_image_and_pins_the_commit():
    spec = build_key.with_identity(make_spec(labels={'team': 'a'}), COMMIT, 'sha256:' + 'c' * 64)
    assert dict(spec.labels) == {'team': 'a', 'io.kiln.build-key': 'sha256:' + 'c' * 64,
                                 'org.opencontainers.image.revision': COMMIT}
    assert spec.git.commit == COMMIT and spec.git.version == 'HEAD'
    args = render.kaniko_args(spec)
    assert '--label=io.kiln.build-key=sha256:' + 'c' * 64 in args
    assert '--label=org.opencontainers.image.revision=' + COMMIT in args
    env = {item['name']: item['value'] for item in render.render_pod(spec)['spec']['initContainers'][0]['env']}
    assert env['KILN_GIT_COMMIT'] == COMMIT


def test_with_identity_keeps_the_user_s_revision_and_the_key_ignores_both_labels():
    spec = make_spec(labels={'org.opencontainers.image.revision': 'v1'})
    labelled = build_key.with_identity(spec, COMMIT, build_key.build_key(spec, COMMIT))
    assert dict(labelled.labels)['org.opencontainers.image.revision'] == 'v1'
    assert build_key.build_key(labelled, COMMIT) == build_key.build_key(spec, COMMIT)


def existing(destination, labels=None, digest='sha256:' + 'd' * 64):
    repository = destination.rsplit(':', 1)[0]
    return build_key.Existing(destination, repository, labels, digest if labels is not None else None)


KEY = 'sha256:' + 'e' * 64


def test_skip_when_every_destination_holds_the_key():
    decision = build_key.decide(KEY, COMMIT, [
        existing('registry:5000/rng:1', {'io.kiln.build-key': KEY}),
        existing('registry:5000/rng:latest', {'io.kiln.build-key': KEY}),
    ])
    assert decision.skip and decision.check == build_key.FOUND
    assert decision.digest == 'sha256:' + 'd' * 64
    assert decision.images == ('registry:5000/rng@sha256:' + 'd' * 64,) * 2
    assert 'registry:5000/rng:1, registry:5000/rng:latest already hold' in decision.detail
    assert COMMIT in decision.detail


@pytest.mark.parametrize('found, detail', [
    ([existing('registry:5000/rng:1')], 'registry:5000/rng:1 does not exist yet'),
    ([existing('registry:5000/rng:1', {'io.kiln.build-key': 'sha256:' + '0' * 64,
                                       'org.opencontainers.image.revision': OTHER})],
     'registry:5000/rng:1 holds an image of another build key (commit {0})'.format(OTHER)),
    ([existing('registry:5000/rng:1', {})], 'registry:5000/rng:1 holds an image without a build key'),
    ([existing('registry:5000/rng:1', {'io.kiln.build-key': KEY}), existing('registry:5000/rng:new')],
     'registry:5000/rng:new does not exist yet'),
])
def test_build_when_a_destination_lacks_the_key(found, detail):
    decision = build_key.decide(KEY, COMMIT, found)
    assert not decision.skip
    assert decision.check == build_key.MISSING
    assert decision.detail == detail
    assert (decision.commit, decision.key) == (COMMIT, KEY)


def test_registry_ca_is_not_part_of_the_build_key():
    from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import build_key
    with_ca = make_spec(registry_ca=[dict(registry='r:5000', secret='a')])
    assert build_key(with_ca, 'a' * 40) == build_key(make_spec(), 'a' * 40)


# ---------------------------------------------------------------- a local context

def test_the_key_of_a_local_context_follows_its_hash_and_the_options():
    one = build_key.build_key(packed(local()), None)
    assert one == build_key.build_key(packed(local()), None)
    assert one != build_key.build_key(packed(local(), sha='cd' * 32), None)
    assert one != build_key.build_key(packed(local(dockerfile='Dockerfile.prod')), None)
    assert one != build_key.build_key(make_spec(), None)


def test_the_key_of_a_git_build_did_not_change():
    # The material of git builds stays as it was, so that images already in registries are still found.
    assert build_key.build_key(make_spec(), 'a' * 40) == (
        'sha256:' + __import__('hashlib').sha256(json.dumps({
            'format': 1, 'commit': 'a' * 40, 'submodules': False, 'context_sub_path': 'dockercoins/rng',
            'dockerfile': 'Dockerfile', 'build_args': [], 'target': None, 'labels': [], 'platform': None,
            'extra_args': [], 'executor_image': 'ghcr.io/osscontainertools/kaniko:v1.26.3',
        }, sort_keys=True, separators=(',', ':')).encode()).hexdigest())


def test_a_local_build_is_labelled_with_the_key_only():
    spec = build_key.with_identity(packed(local()), None, 'sha256:' + 'f' * 64)
    assert dict(spec.labels) == {'io.kiln.build-key': 'sha256:' + 'f' * 64}


# ---------------------------------------------------------------- build_secrets

# The keys of builds without build_secrets, from before the option existed: images built then are still found.
KEYS_WITHOUT_BUILD_SECRETS = [
    (dict(), 'sha256:49adbf13639e6dfa3e376bc7a9862a830c370cf8fdb016860631aaf157a26507'),
    (dict(build_args={'A': '1'}, labels={'x': 'y'}, target='t', platform='linux/arm64', extra_args=['--reproducible']),
     'sha256:8db640fa221b1832947634f37b8a30248687b4c2dd2482871e0f73afb30121c2'),
]


@pytest.mark.parametrize('overrides, key', KEYS_WITHOUT_BUILD_SECRETS)
def test_a_build_without_build_secrets_keeps_its_key(overrides, key):
    assert build_key.build_key(make_spec(**overrides), COMMIT) == key
    assert build_key.build_key(make_spec(build_secrets=[], **overrides), COMMIT) == key


def test_a_local_context_without_build_secrets_keeps_its_key():
    spec = build_spec(module_params(namespace='builds', local_context=dict(path='/tmp'),
                                    destinations=['registry:5000/rng:latest']))
    spec = dataclasses.replace(spec, local=dataclasses.replace(spec.local, sha256='b' * 64))
    assert build_key.build_key(spec, None) == 'sha256:76c6c94f45fc85757708d627e6120c913113deb49d2a77fdf9f180ed7daa47d6'


@pytest.mark.parametrize('other', [
    [dict(TOKEN, id='token2')],
    [dict(TOKEN, secret='other-token')],
    [dict(TOKEN, key='other')],
    [TOKEN, NETRC],
])
def test_the_names_of_build_secrets_are_in_the_key(other):
    with_token = build_key.build_key(make_spec(build_secrets=[TOKEN]), COMMIT)
    assert with_token != build_key.build_key(make_spec(), COMMIT)
    assert build_key.build_key(make_spec(build_secrets=other), COMMIT) != with_token


def test_the_order_of_build_secrets_is_not():
    assert (build_key.build_key(make_spec(build_secrets=[TOKEN, NETRC]), COMMIT)
            == build_key.build_key(make_spec(build_secrets=[NETRC, TOKEN]), COMMIT))
