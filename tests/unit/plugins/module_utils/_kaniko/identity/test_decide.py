# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""local_context and tarball: validation, the items of builds, the build key and the skip decision."""

from __future__ import annotations

import dataclasses
import json
import tarfile

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity import build_key
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.decide import identify
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import tarball
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import items
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.plugins.modules import build
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    DOCKERCOINS_RNG,
    make_spec,
    module_params,
)


def local(**overrides):
    params = dict(DOCKERCOINS_RNG, local_context=dict(path='/src/app'))
    params.pop('git')
    params.update(overrides)
    return build_spec(module_params(**params))


def refused(make, **overrides):
    with pytest.raises(ValidationError) as caught:
        make(**overrides)
    return caught.value


def packed(spec, sha='ab' * 32):
    return dataclasses.replace(spec, local=dataclasses.replace(spec.local, size=1024, sha256=sha))


def test_a_local_context():
    spec = local()
    assert spec.git is None
    assert spec.local.path == '/src/app' and spec.local.max_size == 200 * 1024 ** 2
    assert spec.context_dir == '/workspace/src/dockercoins/rng'
    assert local(local_context=dict(path='/src/app/', max_size='1Gi')).local.path == '/src/app'
    assert local(local_context=dict(path='/src/app', max_size=5000)).local.max_size == 5000
    assert local(local_context=dict(path='/src/app', max_size='500M')).local.max_size == 500 * 1000 ** 2


@pytest.mark.parametrize('overrides, option, words', [
    (dict(local_context=dict(path='app')), 'local_context.path', 'absolute'),
    (dict(local_context=dict(path='/a', max_size='big')), 'local_context.max_size', '200Mi'),
    (dict(local_context=dict(path='/a', max_size=0)), 'local_context.max_size', 'not a size'),
    (dict(local_context=dict(path='/a', max_size='1.5')), 'local_context.max_size', 'not a size'),
    (dict(local_context=dict(path='/a', max_size=True)), 'local_context.max_size', 'must be a size'),
    (dict(context_sub_path='../up'), 'context_sub_path', 'local_context.path'),
])
def test_local_context_refusals(overrides, option, words):
    error = refused(local, **overrides)
    assert error.option == option and words in error.message


def test_both_sources_in_one_item_are_refused():
    error = refused(lambda: build_spec(dict(module_params(**DOCKERCOINS_RNG), local_context=dict(path='/a'))))
    assert error.option == 'local_context' and 'not both' in error.message


def test_tarball_dest():
    spec = make_spec(tarball=dict(dest='/tmp/out/app.tar'))
    assert spec.tarball.dest == '/tmp/out/app.tar' and not spec.push
    assert spec.tarball.tar_path == '/kiln/out/image.tar'
    assert not spec.cache  # auto stays off without a push
    assert make_spec(tarball=dict(dest='/tmp/a.tar'), push=False).push is False


def test_tarball_pvc():
    spec = make_spec(tarball=dict(pvc='artifacts', path='./images//app.tar'))
    assert (spec.tarball.pvc, spec.tarball.path) == ('artifacts', 'images/app.tar')
    assert spec.tarball.tar_path == '/kiln/out/.app.tar.kiln-partial'


@pytest.mark.parametrize('overrides, option, words', [
    (dict(tarball=dict(dest='/tmp/a.tar'), push=True), 'push', 'leave push out'),
    (dict(tarball=dict(dest='/tmp/a.tar'), destinations=[]), 'destinations', 'name the image in the tarball'),
    (dict(tarball=dict()), 'tarball', 'give either dest'),
    (dict(tarball=dict(dest='/tmp/a.tar', pvc='c')), 'tarball', 'give either dest'),
    (dict(tarball=dict(dest='a.tar')), 'tarball.dest', 'absolute file path'),
    (dict(tarball=dict(dest='/tmp/')), 'tarball.dest', 'absolute file path'),
    (dict(tarball=dict(dest='/tmp/a.tar', path='x')), 'tarball.path', 'goes with tarball.pvc'),
    (dict(tarball=dict(pvc='c')), 'tarball.path', 'images/app.tar'),
    (dict(tarball=dict(pvc='c', path='../x.tar')), 'tarball.path', 'leaves'),
    (dict(tarball=dict(pvc='c', path='.')), 'tarball.path', 'must name a file'),
    (dict(tarball=dict(pvc='Not_A_Name', path='a.tar')), 'tarball.pvc', 'Not_A_Name'),
    (dict(extra_args=['--tar-path=/x']), 'extra_args[0]', 'tarball'),
])
def test_tarball_refusals(overrides, option, words):
    error = refused(make_spec, **overrides)
    assert error.option == option and words in error.message


def test_push_unset_means_true_without_tarball():
    assert make_spec().push is True


# ---------------------------------------------------------------- builds

TOP = dict(namespace='builds', git=dict(repo='https://github.com/jpetazzo/container.training'), insecure=True)


def item_specs(builds, **top):
    given = dict(TOP, builds=builds)
    given.update(top)
    params = ArgumentSpecValidator(build.argument_spec(), mutually_exclusive=build.MUTUALLY_EXCLUSIVE,
                                   required_one_of=build.REQUIRED_ONE_OF).validate(given).validated_parameters
    return items.item_specs(params, build.build_options())[0]


def test_an_item_s_local_context_replaces_the_top_level_git_and_back():
    first, second = item_specs([dict(local_context=dict(path='/src/a'), destinations=['r:5000/a:1']),
                                dict(destinations=['r:5000/b:1'])])
    assert first.git is None and first.local.path == '/src/a'
    assert second.local is None and second.git.repo.url == 'https://github.com/jpetazzo/container.training'
    top = dict(TOP)
    top.pop('git')
    given = dict(top, local_context=dict(path='/src/top'), builds=[
        dict(destinations=['r:5000/a:1']),
        dict(git=dict(repo='https://example.com/b.git'), destinations=['r:5000/b:1'])])
    params = ArgumentSpecValidator(build.argument_spec(), mutually_exclusive=build.MUTUALLY_EXCLUSIVE,
                                   required_one_of=build.REQUIRED_ONE_OF).validate(given).validated_parameters
    first, second = items.item_specs(params, build.build_options())[0]
    assert first.local.path == '/src/top' and second.local is None and second.git.repo.url == 'https://example.com/b.git'


def test_two_items_may_not_write_the_same_tarball():
    with pytest.raises(ValidationError) as caught:
        item_specs([dict(destinations=['r:5000/a:1']), dict(destinations=['r:5000/b:1'])],
                   tarball=dict(dest='/tmp/same.tar'))
    assert caught.value.option == 'builds[1].tarball' and 'builds[0]' in caught.value.message
    a, b = item_specs([dict(destinations=['r:5000/a:1'], tarball=dict(dest='/tmp/a.tar')),
                       dict(destinations=['r:5000/b:1'], tarball=dict(pvc='c', path='b.tar'))])
    assert a.tarball.dest == '/tmp/a.tar' and b.tarball.pvc == 'c'


# ---------------------------------------------------------------- build key and skip

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
    assert tarball.read(str(dest))[0] == {}
    assert identify(spec, resolver, None).check == build_key.MISSING
    assert identify(dataclasses.replace(spec, force=True), resolver, None).check == build_key.FORCED


def test_a_tarball_on_a_claim_always_builds():
    spec = make_spec(tarball=dict(pvc='c', path='a.tar'))
    resolver = type('R', (), {'resolve': lambda self, namespace, git: 'a' * 40})()
    assert identify(spec, resolver, None).check == build_key.UNAVAILABLE


@pytest.mark.parametrize('make, words', [
    (lambda p: str(p / 'missing' / 'a.tar'), 'No such file'),
    (str, 'Is a directory'),
])
def test_check_dest(tmp_path, make, words):
    with pytest.raises(ValidationError) as caught:
        tarball.check_dest(make(tmp_path))
    assert caught.value.option == 'tarball.dest' and words in caught.value.message
    tarball.check_dest(str(tmp_path / 'ok.tar'))
