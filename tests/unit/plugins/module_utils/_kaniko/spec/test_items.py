# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The items of builds: merged over the top-level options, validated, errors named builds[i]."""

from __future__ import annotations

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import items
from ansible_collections.kiln.kaniko.plugins.modules import build
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import NETRC, TOKEN

TOP = dict(
    namespace='builds',
    git=dict(repo='https://github.com/jpetazzo/container.training', version='main'),
    insecure=True,
    build_args={'PYTHON_VERSION': '3.12'},
    labels={'team': 'coins'},
    pod=dict(resources=dict(limits={'memory': '2Gi'})),
    extra_args=['--push-retry=3'],
)


def params(builds, **top):
    given = dict(TOP, builds=builds)
    given.update(top)
    result = ArgumentSpecValidator(build.argument_spec(), mutually_exclusive=build.MUTUALLY_EXCLUSIVE,
                                   required_one_of=build.REQUIRED_ONE_OF).validate(given)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def specs(builds, **top):
    return items.item_specs(params(builds, **top), build.build_options())[0]


def refused(builds, **top):
    with pytest.raises(ValidationError) as caught:
        specs(builds, **top)
    return caught.value


def test_items_inherit_and_override():
    rng, worker = specs([
        dict(context_sub_path='dockercoins/rng', destinations=['registry:5000/rng:1']),
        dict(context_sub_path='dockercoins/worker', destinations=['registry:5000/worker:1'], timeout=60,
             git=dict(version='v2'), build_args={'DEBUG': '1'}, labels={'team': 'workers'},
             pod=dict(resources=dict(requests={'cpu': '1'})), extra_args=['--reproducible']),
    ])
    assert rng.git.repo.url == worker.git.repo.url == 'https://github.com/jpetazzo/container.training'
    assert (rng.git.version, worker.git.version) == ('main', 'v2')
    assert (rng.git.depth, worker.git.depth) == (1, 1)
    assert (rng.timeout, worker.timeout) == (1800, 60)
    assert (rng.retries, worker.retries) == (0, 0)
    assert rng.build_args == (('PYTHON_VERSION', '3.12'),)
    assert worker.build_args == (('DEBUG', '1'), ('PYTHON_VERSION', '3.12'))   # dictionaries merge key by key
    assert worker.labels == (('team', 'workers'),)
    assert worker.pod.requests == (('cpu', '1'),) and worker.pod.limits == (('memory', '2Gi'),)
    assert rng.extra_args == ('--push-retry=3',) and worker.extra_args == ('--reproducible',)  # lists replace
    assert rng.insecure and worker.insecure


def test_git_may_come_from_the_items_only():
    first, = items.item_specs(dict(params([dict(git=dict(repo='https://x.example.com/a.git'),
                                                destinations=['registry:5000/a:1'])]), git=None),
                              build.build_options())[0]
    assert (first.git.repo.url, first.git.version, first.git.depth) == ('https://x.example.com/a.git', 'HEAD', 1)
    with pytest.raises(ValidationError) as caught:
        items.item_specs(dict(params([dict(destinations=['registry:5000/a:1'])]), git=None), build.build_options())
    error = caught.value
    assert error.option == 'builds[0].git'


def test_defaults_apply_when_neither_level_sets_an_option():
    spec, = specs([dict(destinations=['registry:5000/a:1'])])
    assert (spec.dockerfile, spec.keep_pod, spec.cache, spec.cache_repo) == (
        'Dockerfile', 'on_failure', True, 'registry:5000/a/cache')


@pytest.mark.parametrize('builds, option', [
    ([dict(destinations=['registry:5000/a:1']), dict(destinations=['registry:5000/b:1', 'Bad/Name'])],
     'builds[1].destinations[1]'),
    ([dict(destinations=['registry:5000/a:1'], dockerfile='../x')], 'builds[0].dockerfile'),
    ([dict(destinations=['registry:5000/a:1']), dict(destinations=['registry:5000/b:1'], timeout=0)],
     'builds[1].timeout'),
    ([dict(destinations=['registry:5000/a:1'], retries=-2)], 'builds[0].retries'),
    ([dict(destinations=['registry:5000/a:1']), dict(destinations=['registry:5000/b:1']),
      dict(push=True, destinations=[])], 'builds[2].destinations'),
    ([dict(destinations=['registry:5000/a:1']), dict(destinations=['registry:5000/a:1'])], 'builds[1].destinations[0]'),
    ([dict(destinations=['registry:5000/a:1', 'app']), dict(destinations=['docker.io/library/app:latest'])],
     'builds[1].destinations[0]'),  # the same tag, written another way
    ([dict(destinations=['registry:5000/a:1'], registry_auth=[dict(server='r', username='u', password='p')])],
     'builds[0].registry_auth'),
    ([dict(destinations=['registry:5000/a:1'], kubeconfig='/x')], 'builds[0].kubeconfig'),
    ([dict(destinations=['registry:5000/a:1'], builds=[])], 'builds[0].builds'),
    ([dict(destination=['registry:5000/a:1'])], 'builds[0].destination'),
    ([dict(destinations=['registry:5000/a:1'], timeout='soon')], 'builds[0]'),
    ([dict(destinations=['registry:5000/a:1'], keep_pod='sometimes')], 'builds[0]'),
    ([], 'builds'),
])
def test_errors_name_the_item_and_option(builds, option):
    assert refused(builds).option == option


def test_items_inherit_registry_ca_and_may_replace_it():
    top_ca = [dict(registry='registry.example.com', config_map='registry-ca')]
    inherit, replace = specs([
        dict(destinations=['registry.example.com/a:1']),
        dict(destinations=['mirror.example.com/b:1'], registry_ca=[dict(registry='mirror.example.com', secret='m')]),
    ], registry_ca=top_ca)
    assert [(ca.registry, ca.kind, ca.name, ca.key) for ca in inherit.registry_ca] == [
        ('registry.example.com', 'ConfigMap', 'registry-ca', 'ca.crt')]
    assert [(ca.registry, ca.kind, ca.name, ca.key) for ca in replace.registry_ca] == [
        ('mirror.example.com', 'Secret', 'm', 'ca.crt')]                                   # lists replace


def test_an_item_registry_ca_gets_the_defaults_of_its_suboptions():
    given = params([dict(destinations=['registry:5000/a:1'], registry_ca=[dict(registry='registry:5000', secret='s')])])
    merged = items.item_params(given, 0, given['builds'][0], build.build_options())
    assert merged['registry_ca'] == [dict(registry='registry:5000', secret='s', config_map=None, key='ca.crt')]


def test_a_registry_ca_error_names_the_item():
    error = refused([dict(destinations=['registry:5000/a:1']),
                     dict(destinations=['registry:5000/b:1'], registry_ca=[dict(registry='https://r:5000', secret='s')])])
    assert error.option == 'builds[1].registry_ca[0].registry'
    assert str(error).startswith("builds[1].registry_ca[0].registry: 'https://r:5000' is a URL")
    error = refused([dict(destinations=['registry:5000/a:1'], registry_ca=[dict(secret='s')])])
    assert str(error).startswith('builds[0].registry_ca[0].registry: is required')


def test_the_message_names_the_item_too():
    error = refused([dict(destinations=['registry:5000/a:1']), dict(destinations=['Bad/Name'])])
    assert str(error).startswith("builds[1].destinations[0]: 'Bad/Name' is not a valid image reference")


def test_a_misspelt_option_in_an_item_gets_the_closest_name():
    error = refused([dict(destination=['registry:5000/a:1'])])
    assert str(error) == ('builds[0].destination: is not an option of a build, did you mean destinations? '
                          '(connection options and max_concurrent are set at the top level only)')
    assert 'did you mean' not in str(refused([dict(destinations=['registry:5000/a:1'], zzzz=1)]))


def test_registry_secret_in_an_item_replaces_top_level_registry_auth():
    auth = [dict(server='registry:5000', username='u', password='p')]
    a, b = specs([dict(destinations=['registry:5000/a:1']),
                  dict(destinations=['registry:5000/b:1'], registry_secret='push')], registry_auth=auth)
    assert a.registry_auth[0].username == 'u' and a.registry_secret is None
    assert b.registry_auth == () and b.registry_secret == 'push'


def test_cache_false_in_an_item_drops_the_top_level_cache_repo():
    a, b = specs([dict(destinations=['registry:5000/a:1']), dict(destinations=['registry:5000/b:1'], cache=False)],
                 cache_repo='registry:5000/shared-cache', cache_ttl='24h')
    assert (a.cache, a.cache_repo, a.cache_ttl) == (True, 'registry:5000/shared-cache', '24h')
    assert (b.cache, b.cache_repo, b.cache_ttl) == (False, None, None)


def test_log_path_is_the_run_s_and_items_may_have_their_own():
    prepared = params([dict(destinations=['registry:5000/a:1']),
                       dict(destinations=['registry:5000/b:1'], log_path='/tmp/b.log')], log_path='/tmp/run.log')
    (a, b), run_log = items.item_specs(prepared, build.build_options())
    assert run_log == '/tmp/run.log'
    assert a.log_path is None and b.log_path == '/tmp/b.log'
    assert refused([dict(destinations=['registry:5000/a:1'], log_path='/tmp/x.log'),
                    dict(destinations=['registry:5000/b:1'], log_path='/tmp/x.log')]).option == 'builds[1].log_path'


def test_items_may_build_in_other_namespaces():
    a, b = specs([dict(destinations=['registry:5000/a:1']), dict(destinations=['registry:5000/b:1'], namespace='ci')])
    assert (a.namespace, b.namespace) == ('builds', 'ci')


def test_max_concurrent_must_be_positive():
    assert refused([dict(destinations=['registry:5000/a:1'])], max_concurrent=0).option == 'max_concurrent'


def test_merge():
    assert items.merge({'a': {'x': 1, 'y': 2}, 'b': [1]}, {'a': {'y': 3, 'z': None}, 'b': [2], 'c': None}) == {
        'a': {'x': 1, 'y': 3}, 'b': [2]}
    assert items.merge(None, {'a': 1}) == {'a': 1}
    assert items.merge({'a': 1}, None) == {'a': 1}


def test_item_spec_has_no_defaults_and_no_required():
    spec = items.item_option_spec(build.build_options())
    assert 'registry_auth' not in spec
    assert 'default' not in spec['dockerfile'] and 'required' not in spec['namespace']
    assert 'default' not in spec['git']['options']['version']
    assert 'required' not in spec['git']['options']['repo']


def test_an_items_platform_replaces_the_top_level_platforms_and_the_other_way_round():
    first, second = specs([dict(destinations=['registry:5000/a:1']),
                           dict(destinations=['registry:5000/b:1'], platform='linux/arm64')],
                          platforms=['linux/amd64', 'linux/arm64'])
    assert first.platforms == ('linux/amd64', 'linux/arm64') and first.platform is None
    assert second.platforms == () and second.platform == 'linux/arm64'
    only, = specs([dict(destinations=['registry:5000/c:1'], platforms=['linux/arm64'])], platform='linux/amd64')
    assert only.platforms == ('linux/arm64',) and only.platform is None


# ---------------------------------------------------------------- local_context and tarball in the items

SOURCE_TOP = dict(namespace='builds', git=dict(repo='https://github.com/jpetazzo/container.training'), insecure=True)


def item_specs(builds, **top):
    given = dict(SOURCE_TOP, builds=builds)
    given.update(top)
    params = ArgumentSpecValidator(build.argument_spec(), mutually_exclusive=build.MUTUALLY_EXCLUSIVE,
                                   required_one_of=build.REQUIRED_ONE_OF).validate(given).validated_parameters
    return items.item_specs(params, build.build_options())[0]


def test_an_item_s_local_context_replaces_the_top_level_git_and_back():
    first, second = item_specs([dict(local_context=dict(path='/src/a'), destinations=['r:5000/a:1']),
                                dict(destinations=['r:5000/b:1'])])
    assert first.git is None and first.local.path == '/src/a'
    assert second.local is None and second.git.repo.url == 'https://github.com/jpetazzo/container.training'
    top = dict(SOURCE_TOP)
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


# ---------------------------------------------------------------- build_secrets in the items

def secret_specs(builds, **top):
    """The BuildSpecs of the items ``builds`` under the DockerCoins top level and ``top``."""
    given = dict(namespace='builds', git=dict(repo='https://github.com/jpetazzo/container.training'), builds=builds)
    given.update(top)
    result = ArgumentSpecValidator(build.argument_spec(), mutually_exclusive=build.MUTUALLY_EXCLUSIVE).validate(given)
    assert not result.error_messages, result.error_messages
    return items.item_specs(result.validated_parameters, build.build_options())[0]


def test_an_item_inherits_the_top_level_list_or_replaces_it():
    inherited, replaced, emptied = secret_specs([{'destinations': ['registry:5000/a:1']},
                                                 {'destinations': ['registry:5000/b:1'], 'build_secrets': [NETRC]},
                                                 {'destinations': ['registry:5000/c:1'], 'build_secrets': []}],
                                                build_secrets=[TOKEN])
    assert [entry.id for entry in inherited.build_secrets] == ['token']
    assert [entry.id for entry in replaced.build_secrets] == ['netrc']
    assert emptied.build_secrets == ()
