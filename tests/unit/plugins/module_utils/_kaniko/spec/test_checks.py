# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The check of each build option (spec/checks.py), through build_spec as the module runs it: what each accepts
and normalises, and the message that refuses it, naming the option and the fix."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import checks
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import model
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    DOCKERCOINS_RNG,
    invalid,
    local,
    make_spec,
    module_params,
)


@pytest.mark.parametrize('given, expected', [
    ('', ''),
    ('.', ''),
    ('dockercoins/rng/', 'dockercoins/rng'),
    ('./a/../dockercoins//rng', 'dockercoins/rng'),
])
def test_context_sub_path_is_normalised(given, expected):
    assert make_spec(context_sub_path=given).context_sub_path == expected


@pytest.mark.parametrize('given', ['..', '../other', 'a/../../b', '/abs/path'])
def test_context_sub_path_must_stay_in_the_repository(given):
    assert invalid(context_sub_path=given).option == 'context_sub_path'


@pytest.mark.parametrize('given, expected', [
    ('Dockerfile', '/workspace/src/dockercoins/rng/Dockerfile'),
    ('docker/Dockerfile.prod', '/workspace/src/dockercoins/rng/docker/Dockerfile.prod'),
    ('docker/../Dockerfile', '/workspace/src/dockercoins/rng/Dockerfile'),
])
def test_dockerfile_is_relative_to_the_context(given, expected):
    assert make_spec(dockerfile=given).dockerfile_path == expected


@pytest.mark.parametrize('given', ['../Dockerfile', '../../etc/passwd', '/etc/Dockerfile', 'a/../../Dockerfile', ''])
def test_dockerfile_outside_the_context_is_refused(given):
    error = invalid(dockerfile=given)
    assert error.option == 'dockerfile'
    assert str(error).startswith('dockerfile: ')


def test_invalid_destination_names_the_item_and_the_fix():
    error = invalid(destinations=['registry:5000/rng:latest', 'Foo/Bar'])
    assert str(error) == ("destinations[1]: 'Foo/Bar' is not a valid image reference "
                          "(repository names are lower case); use e.g. registry:5000/team/app:tag")


@pytest.mark.parametrize('reference', [
    'registry:5000/rng:latest',
    'rng',
    'team/app:1.0',
    'localhost/app',
    'localhost:5000/a/b/c:v1.2.3-rc_1',
    'ghcr.io/osscontainertools/kaniko:v1.26.3',
    '[::1]:5000/app:tag',
    '10.0.0.1:5000/app',
    'a.b-c/x__y/z--w.v:' + 't' * 128,
    'registry.io/' + 'a' * 250,     # distribution limits the path to 255 characters, not the whole name
    'Registry.Example:5000/app',    # a first component with upper case is a domain
])
def test_valid_destinations(reference):
    assert make_spec(destinations=[reference]).destinations == (reference,)


@pytest.mark.parametrize('reference, reason', [
    ('Foo/Bar', 'lower case'),
    ('registry:5000/Rng', 'lower case'),
    ('app:' + 't' * 129, 'longer than 128'),
    ('app:.tag', 'tag'),
    ('app:', 'tag'),
    ('registry:5000/', 'empty'),
    ('a//b', "path component ''"),
    ('-app', 'path component'),
    ('app_', 'path component'),
    ('reg_istry.io:5000/app', 'registry host'),
    ('registry:port/app', 'registry host'),
    ('app with space', 'white space'),
    ('app@sha256:abc', 'digest'),
    ('registry.io/' + 'a' * 256, 'longer than 255'),
    ('registry:5000/app:café', "'café' is not a valid tag"),
    ('f' * 64, 'image ID'),
    ('a_b.c/app', "'a_b.c' is not a valid registry host[:port]"),
    (' registry:5000/app', 'white space'),
])
def test_invalid_destinations(reference, reason):
    error = invalid(destinations=[reference])
    assert error.option == 'destinations[0]'
    assert reason in str(error)


def test_a_tag_distribution_refuses_is_refused_before_anything_runs():
    error = invalid(destinations=['registry:5000/app:café'])
    assert str(error) == ("destinations[0]: 'registry:5000/app:café' is not a valid image reference ('café' is not a "
                          "valid tag: it may hold only ASCII letters, digits, _, . and - and must not start with . "
                          "or -); use e.g. registry:5000/team/app:tag")


def test_a_destination_cannot_carry_a_digest():
    error = invalid(destinations=['registry:5000/rng@sha256:' + 'a' * 64])
    assert 'carries a digest' in str(error)


def test_images_may_be_pinned_by_digest():
    image = 'ghcr.io/osscontainertools/kaniko:v1.26.3@sha256:' + '0123456789abcdef' * 4
    assert make_spec(executor_image=image).executor_image == image
    assert invalid(git_image='Alpine/Git').option == 'git_image'
    error = invalid(executor_image='ghcr.io/osscontainertools/kaniko@blake3:' + 'a' * 64)
    assert error.option == 'executor_image'
    assert "the algorithm 'blake3'; it must be sha256, sha384 or sha512" in str(error)
    assert invalid(cache_repo='registry:5000/Cache').option == 'cache_repo'


def test_registry_auth_servers_are_unique():
    error = invalid(registry_auth=[dict(server='r:5000', username='a', password='b'),
                                   dict(server='r:5000', username='c', password='d')])
    assert error.option == 'registry_auth[1].server'


def test_registry_ca_entries():
    spec = make_spec(registry_ca=[dict(registry='registry.example.com:5000', config_map='registry-ca'),
                                  dict(registry='10.0.0.7', secret='other-ca', key='tls.crt')])
    assert spec.registry_ca == (
        model.RegistryCA(registry='registry.example.com:5000', kind='ConfigMap', name='registry-ca', key='ca.crt'),
        model.RegistryCA(registry='10.0.0.7', kind='Secret', name='other-ca', key='tls.crt'),
    )
    assert [ca.source for ca in spec.registry_ca] == ['config_map', 'secret']
    assert make_spec().registry_ca == ()


@pytest.mark.parametrize('registry, fix', [
    ('https://registry.example.com:5000', "'https://registry.example.com:5000' is a URL; give the registry as "
                                          "host[:port] without https://, e.g. registry.example.com or "
                                          "registry.example.com:5000"),
    ('registry.example.com/team', "'registry.example.com/team' has a path; give the registry as host[:port] only"),
    ('registry example.com', "is not a registry host[:port]; e.g. registry.example.com"),
    ('registry:port', "is not a registry host[:port]"),
    ('', "is required: the registry whose CA this is, as host[:port], e.g. registry.example.com"),
])
def test_registry_ca_registry_is_a_host_and_port(registry, fix):
    error = invalid(registry_ca=[dict(registry=registry, config_map='registry-ca')])
    assert error.option == 'registry_ca[0].registry'
    assert fix in str(error)
    assert str(error).startswith('registry_ca[0].registry: ')


@pytest.mark.parametrize('entry, option, fix', [
    (dict(registry='r:5000'), 'registry_ca[0]', 'give secret or config_map: the name of the Secret or ConfigMap'),
    (dict(registry='r:5000', secret='a', config_map='b'), 'registry_ca[0]', 'give secret or config_map, not both'),
    (dict(registry='r:5000', secret='Registry_CA'), 'registry_ca[0].secret', 'must be a Kubernetes object name'),
    (dict(registry='r:5000', config_map='ca', key='ca/crt'), 'registry_ca[0].key', 'e.g. ca.crt'),
    # Kubernetes refuses a key that starts with '..' (IsConfigMapKey), as build_secrets does.
    (dict(registry='r:5000', config_map='ca', key='..data'), 'registry_ca[0].key', 'e.g. ca.crt'),
])
def test_registry_ca_names_one_object_and_a_key(entry, option, fix):
    error = invalid(registry_ca=[entry])
    assert error.option == option
    assert fix in str(error)


def test_registry_ca_lists_a_registry_once():
    error = invalid(registry_ca=[dict(registry='r:5000', secret='a'), dict(registry='r:5000', config_map='b')])
    assert error.option == 'registry_ca[1].registry'
    assert 'listed twice' in str(error)


def test_registry_ca_refuses_what_checks_no_certificate():
    error = invalid(skip_tls_verify=True, registry_ca=[dict(registry='r:5000', secret='a')])
    assert error.option == 'registry_ca'
    assert 'leave skip_tls_verify out' in str(error)
    error = invalid(insecure_registries=['r:5000'], registry_ca=[dict(registry='r:5000', secret='a')])
    assert error.option == 'registry_ca[0].registry'
    assert 'also in insecure_registries' in str(error)


@pytest.mark.parametrize('kind, key, value', [
    ('limits', 'memory', '4GB'),
    ('limits', 'memory', '1.5.5Gi'),
    ('limits', 'cpu', 'two'),
    ('requests', 'memory', '-1Gi'),
    ('requests', 'ephemeral-storage', '10 Gi'),
    ('requests', 'cpu', True),
])
def test_invalid_quantities_name_the_resource(kind, key, value):
    error = invalid(pod=dict(resources={kind: {key: value}}))
    assert error.option == 'pod.resources.{0}.{1}'.format(kind, key)


@pytest.mark.parametrize('value', ['500m', '2', 2, 0.5, '1Gi', '512Mi', '1e3', '1E-2', '.5', '1.', '+1k', '100Ei'])
def test_valid_quantities(value):
    spec = make_spec(pod=dict(resources=dict(limits=dict(cpu=value))))
    assert spec.pod.limits == (('cpu', str(value)),)


def test_requests_above_limits_are_refused():
    error = invalid(pod=dict(resources=dict(requests=dict(memory='2Gi'), limits=dict(memory='1500Mi'))))
    assert error.option == 'pod.resources.requests.memory'
    assert make_spec(pod=dict(resources=dict(requests=dict(memory='1024Mi'), limits=dict(memory='1Gi'))))


@pytest.mark.parametrize('version', ['-rf', 'a b', 'a..b', 'ref^', 'x:y', 'branch/', 'x.lock', 'HEAD@{1}', ''])
def test_bad_git_versions(version):
    assert invalid(git=dict(repo='https://x.io/a', version=version)).option == 'git.version'


@pytest.mark.parametrize('version', ['main', 'feature/x-1', 'v1.2.3', '3f2c1e9', '3f2c1e9b7a4d5e6f8091a2b3c4d5e6f708192a3b'])
def test_git_versions(version):
    assert make_spec(git=dict(repo='https://x.io/a', version=version)).git.version == version


def test_git_depth_must_not_be_negative():
    assert invalid(git=dict(repo='https://x.io/a', depth=-1)).option == 'git.depth'
    assert make_spec(git=dict(repo='https://x.io/a', depth=0)).git.depth == 0


@pytest.mark.parametrize('arg, owner', [
    ('--destination=registry:5000/x', 'destinations'),
    ('--destination', 'destinations'),
    ('-dregistry:5000/x', 'destinations'),
    ('--context=dir:///tmp', 'git or local_context, and context_sub_path'),
    ('-c', 'git or local_context, and context_sub_path'),
    ('--dockerfile=/etc/Dockerfile', 'dockerfile'),
    ('--digest-file=/tmp/x', 'the module itself'),
    ('--image-name-with-digest-file=/tmp/x', 'the module itself'),
    ('--image-name-tag-with-digest-file=/tmp/x', 'the module itself'),
    ('--build-arg=A=1', 'build_args'),
    ('--no-push', 'push'),
    ('--cache=true', 'cache'),
    ('--registry-certificate=r:5000=/ca.crt', 'registry_ca'),
])
def test_extra_args_cannot_override_options(arg, owner):
    error = invalid(extra_args=['--compressed-caching=false', arg])
    assert error.option == 'extra_args[1]'
    assert owner in str(error)


def test_extra_args_pass_through_in_order():
    args = ['--compressed-caching=false', '--snapshot-mode', 'redo', '--push-retry=3']
    assert make_spec(extra_args=args).extra_args == tuple(args)


def test_build_args_and_labels_are_sorted_strings():
    spec = make_spec(build_args={'B': 2, 'A': 'x'}, labels={'org.opencontainers.image.version': '1.0'})
    assert spec.build_args == (('A', 'x'), ('B', '2'))
    assert spec.labels == (('org.opencontainers.image.version', '1.0'),)


def test_boolean_build_args_must_be_quoted():
    error = invalid(build_args={'DEBUG': True})
    assert error.option == 'build_args.DEBUG'
    assert 'quote' in str(error)


def test_pod_labels_are_checked():
    assert invalid(pod=dict(labels={'app.kubernetes.io/managed-by': 'me'})).option == 'pod.labels.app.kubernetes.io/managed-by'
    assert invalid(pod=dict(labels={'team': 'not valid!'})).option == 'pod.labels.team'
    assert invalid(pod=dict(labels={'Bad_Prefix/x': 'y'})).option == 'pod.labels'
    assert make_spec(pod=dict(labels={'example.com/team': 'a-b_c.d', 'empty': ''})).pod.labels == (
        ('empty', ''), ('example.com/team', 'a-b_c.d'))


def test_pod_names_are_checked():
    assert invalid(pod=dict(service_account='Builder')).option == 'pod.service_account'
    assert invalid(pod=dict(image_pull_secrets=['ok', 'Not_OK'])).option == 'pod.image_pull_secrets[1]'
    assert invalid(pod=dict(priority_class='high priority')).option == 'pod.priority_class'
    assert invalid(git=dict(repo='https://x.io/a', secret='my_secret')).option == 'git.secret'
    assert invalid(registry_secret='Push').option == 'registry_secret'


def test_tolerations_take_kubernetes_rules():
    assert invalid(pod=dict(tolerations=[dict(operator='Exists', value='x', key='k')])).option == 'pod.tolerations[0].value'
    assert invalid(pod=dict(tolerations=[dict(operator='Equal', value='x')])).option == 'pod.tolerations[0].operator'
    spec = make_spec(pod=dict(tolerations=[dict(key='build', operator='Equal', value='yes', effect='NoSchedule'),
                                           dict(operator='Exists', tolerationSeconds=30, effect='NoExecute')]))
    assert spec.pod.tolerations == (
        {'key': 'build', 'operator': 'Equal', 'value': 'yes', 'effect': 'NoSchedule'},
        {'operator': 'Exists', 'effect': 'NoExecute', 'tolerationSeconds': 30},
    )


@pytest.mark.parametrize('registry, insecure, insecure_registries, self_hosted', [
    ('registry:5000', False, (), True),            # an in-cluster short name
    ('registry.kiln.svc', False, (), True),
    ('registry.kiln.svc.cluster.local:5000', False, (), True),
    ('localhost:5000', False, (), True),
    ('10.0.0.7:5000', False, (), True),
    ('192.168.1.2', False, (), True),
    ('[::1]:5000', False, (), True),
    ('registry.example.com', False, ('registry.example.com',), True),
    ('registry.example.com', True, (), True),      # plain HTTP: nobody's public registry
    ('registry.example.com', False, ('other:5000',), False),
    ('ghcr.io', False, (), False),
    ('8.8.8.8:5000', False, (), False),
    (None, False, (), False),                      # Docker Hub
    ('docker.io', True, (), False),                # Docker Hub, however it is reached
])
def test_which_registries_count_as_self_hosted(registry, insecure, insecure_registries, self_hosted):
    assert bool(checks.self_hosted_reason(registry, insecure, insecure_registries)) is self_hosted


@pytest.mark.parametrize('overrides, cache, cache_repo', [
    (dict(), True, 'registry:5000/rng/cache'),
    (dict(cache='auto', insecure=False), True, 'registry:5000/rng/cache'),
    (dict(insecure=False, destinations=['ghcr.io/example/rng:1']), False, None),
    (dict(insecure=False, destinations=['ghcr.io/example/rng:1'], cache_repo='ghcr.io/example/cache'),
     True, 'ghcr.io/example/cache'),
    (dict(insecure=False, destinations=['ghcr.io/example/rng:1'], cache=True), True, 'ghcr.io/example/rng/cache'),
    (dict(insecure=False, destinations=['docker.io/example/rng:1'], cache='yes'), True, 'docker.io/example/rng/cache'),
    # Kaniko's own default for a Docker Hub short name: the official image's repository plus /cache.
    (dict(insecure=False, destinations=['rng:1'], cache=True), True, 'docker.io/library/rng/cache'),
    (dict(destinations=['rng:1']), False, None),  # auto: Docker Hub is not self-hosted, even with insecure
    (dict(cache=False), False, None),
    (dict(cache='false'), False, None),
    (dict(push=False), False, None),              # auto: nothing is pushed
    (dict(push=False, cache=True), True, 'registry:5000/rng/cache'),
    (dict(insecure=False, destinations=['ghcr.io/example/rng:1'], cache_ttl='24h'), False, None),
])
def test_cache_auto_rule(overrides, cache, cache_repo):
    spec = make_spec(**overrides)
    assert (spec.cache, spec.cache_repo) == (cache, cache_repo)
    if not cache:
        assert spec.cache_ttl is None


def test_cache_values():
    assert invalid(cache='sometimes').option == 'cache'
    assert invalid(cache=True, push=False, destinations=None).option == 'cache_repo'
    assert make_spec(cache_ttl='12h').cache_ttl == '12h'


# ---------------------------------------------------------------- local_context and tarball

def refused(make, **overrides):
    with pytest.raises(ValidationError) as caught:
        make(**overrides)
    return caught.value


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


@pytest.mark.parametrize('arg', ['--secret', '--secret=id=token,src=/kaniko/token'])
def test_secret_in_extra_args_is_refused(arg):
    error = invalid(extra_args=['--push-retry=3', arg, 'id=token,src=/kaniko/token'])
    assert str(error) == 'extra_args[1]: --secret is set through build_secrets, not extra_args'
