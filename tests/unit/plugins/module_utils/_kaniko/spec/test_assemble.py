# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""build_spec: the parameters -> one frozen BuildSpec, and the rules it keeps itself (the defaults, push and
destinations, the limits, the names, the cache's own options, the build key label); each option's own check is
tested in test_checks.py."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    DOCKERCOINS_RNG,
    invalid,
    make_spec,
    module_params,
)


def test_defaults_of_the_dockercoins_build():
    spec = make_spec()
    assert spec.namespace == 'builds'
    assert spec.name == 'kiln-build'
    assert spec.git.version == 'HEAD'
    assert spec.git.depth == 1
    assert spec.context_dir == '/workspace/src/dockercoins/rng'
    assert spec.dockerfile_path == '/workspace/src/dockercoins/rng/Dockerfile'
    assert spec.destinations == ('registry:5000/rng:latest',)
    assert spec.push and spec.insecure and not spec.force
    assert (spec.cache, spec.cache_repo) == (True, 'registry:5000/rng/cache')  # auto: insecure, so self-hosted
    assert spec.executor_image == 'ghcr.io/osscontainertools/kaniko:v1.26.3'
    assert spec.git_image == 'docker.io/alpine/git:2.49.1'
    assert (spec.timeout, spec.unschedulable_timeout, spec.log_lines, spec.keep_pod) == (1800, 60, 50, 'on_failure')


def test_the_spec_holds_the_parsed_destinations():
    spec = make_spec(destinations=['registry:5000/rng:1', 'rng'])
    assert spec.destinations == ('registry:5000/rng:1', 'rng')
    assert [str(ref) for ref in spec.destination_refs] == ['registry:5000/rng:1', 'docker.io/library/rng']


def test_push_needs_a_destination():
    error = invalid(destinations=[])
    assert error.option == 'destinations'
    assert 'push: false' in str(error)
    assert make_spec(destinations=None, push=False).destinations == ()


def test_registry_secret_and_registry_auth_exclude_each_other():
    params = module_params(**dict(DOCKERCOINS_RNG, registry_secret='push'))
    params['registry_auth'] = [dict(server='registry:5000', username='u', password='p')]
    with pytest.raises(ValidationError) as caught:
        build_spec(params)
    assert caught.value.option == 'registry_auth'


@pytest.mark.parametrize('platform', ['linux', 'Linux/AMD64', 'linux/amd64/v8/x', 'linux/', ' linux/amd64'])
def test_bad_platforms(platform):
    assert invalid(platform=platform).option == 'platform'


@pytest.mark.parametrize('platform', ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7', 'windows/amd64'])
def test_platforms(platform):
    assert make_spec(platform=platform).platform == platform


def test_insecure_registries_are_hosts():
    assert invalid(insecure_registries=['http://registry:5000']).option == 'insecure_registries[0]'
    assert invalid(insecure_registries=['registry:5000\n']).option == 'insecure_registries[0]'
    assert make_spec(insecure_registries=['registry:5000']).insecure_registries == ('registry:5000',)


def test_cache_options_need_cache():
    assert invalid(cache=False, cache_repo='registry:5000/cache').option == 'cache_repo'
    assert invalid(cache='no', cache_ttl='24h').option == 'cache_ttl'
    assert invalid(cache=True, cache_repo='registry:5000/cache:tag').option == 'cache_repo'
    assert invalid(cache=True, cache_ttl='2w').option == 'cache_ttl'
    spec = make_spec(cache=True, cache_repo='registry:5000/cache', cache_ttl='1h30m')
    assert (spec.cache_repo, spec.cache_ttl) == ('registry:5000/cache', '1h30m')


def test_the_build_key_label_is_the_module_s():
    error = invalid(labels={'io.kiln.build-key': 'sha256:0'})
    assert error.option == 'labels.io.kiln.build-key'
    assert make_spec(labels={'org.opencontainers.image.revision': 'mine'}).labels == (
        ('org.opencontainers.image.revision', 'mine'),)


@pytest.mark.parametrize('option', ['timeout', 'unschedulable_timeout'])
@pytest.mark.parametrize('value', [0, -5])
def test_timeouts_must_be_positive(option, value):
    assert invalid(**{option: value}).option == option


def test_log_lines_must_not_be_negative():
    assert invalid(log_lines=-1).option == 'log_lines'


def test_retries_must_not_be_negative():
    error = invalid(retries=-1)
    assert error.option == 'retries'
    assert error.message == ('retries: must be 0 or more: the times a build whose pod was lost through no fault of '
                             'its own runs again (0: never)')
    assert make_spec().retries == 0 and make_spec(retries=2).retries == 2
    assert (make_spec().attempt, make_spec().avoid_nodes) == (1, ())


@pytest.mark.parametrize('name', ['Kiln', 'kiln_build', '-kiln', 'k' * 53])
def test_name_prefix_is_a_short_dns_label(name):
    assert invalid(name=name).option == 'name'


def test_namespace_is_a_dns_label():
    assert invalid(namespace='Builds').option == 'namespace'


def test_force():
    assert make_spec(force=True).force is True
    assert make_spec().force is False


def test_push_unset_means_true_without_tarball():
    assert make_spec().push is True
