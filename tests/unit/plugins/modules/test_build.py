# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module's argument spec, and main() up to the point where it would need a cluster."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.modules import build
from ansible_collections.kiln.kaniko.tests.unit.plugins.modules import module_args

BASE = dict(namespace='builds', git=dict(repo='https://github.com/jpetazzo/container.training'),
            context_sub_path='dockercoins/rng', destinations=['registry:5000/rng:latest'], insecure=True)


def validate(**overrides):
    params = dict(BASE)
    params.update(overrides)
    validator = ArgumentSpecValidator(build.argument_spec(), mutually_exclusive=build.MUTUALLY_EXCLUSIVE)
    return validator.validate(params)


def errors(**overrides):
    return ' | '.join(validate(**overrides).error_messages)


def run_main(capsys, args, check_mode=False):
    return module_args.run_main(capsys, build.main, args, check_mode)


def test_defaults():
    params = validate().validated_parameters
    assert params['git'] == dict(repo='https://github.com/jpetazzo/container.training', version='HEAD', depth=1,
                                 submodules=False, secret=None)
    assert params['name'] == 'kiln-build'
    assert params['dockerfile'] == 'Dockerfile'
    # push: unset means true, or false with tarball (spec/model.py decides)
    assert params['push'] is None and params['cache'] == 'auto' and params['force'] is False
    assert params['local_context'] is None and params['tarball'] is None
    assert params['builds'] is None and params['max_concurrent'] == 4
    assert params['executor_image'] == 'ghcr.io/osscontainertools/kaniko:v1.26.3'
    assert params['git_image'] == 'docker.io/alpine/git:2.49.1'
    assert (params['image_pull_policy'], params['keep_pod']) == ('IfNotPresent', 'on_failure')
    assert (params['timeout'], params['unschedulable_timeout'], params['log_lines']) == (1800, 60, 50)


@pytest.mark.parametrize('overrides, message', [
    (dict(git=dict(repo='https://x.io/a', branch='main')), 'branch'),
    (dict(pod=dict(resource={'limits': {}})), 'resource'),
    (dict(pod=dict(resources={'limit': {'memory': '1Gi'}})), 'limit'),
    (dict(pod=dict(tolerations=[{'key': 'a', 'effects': 'NoSchedule'}])), 'effects'),
    (dict(pod=dict(affinity={'nodeAffinity': {}, 'nodeAntiAffinity': {}})), 'nodeAntiAffinity'),
    (dict(registry_auth=[dict(server='r', username='u', password='p', email='e')]), 'email'),
    (dict(proxy_headers=dict(user_agent='x', cookie='y')), 'cookie'),
    (dict(destination=['registry:5000/rng']), 'destination'),
])
def test_unknown_keys_in_sub_dicts_fail(overrides, message):
    text = errors(**overrides)
    assert 'Supported parameters include' in text
    assert message in text


@pytest.mark.parametrize('overrides, message', [
    (dict(git=dict(version='main')), 'repo'),
    (dict(registry_auth=[dict(server='r', username='u')]), 'password'),
    (dict(keep_pod='sometimes'), 'keep_pod'),
    (dict(image_pull_policy='Maybe'), 'image_pull_policy'),
    (dict(pod=dict(tolerations=[dict(key='a', operator='In')])), 'operator'),
    (dict(timeout='soon'), 'timeout'),
    (dict(registry_secret='push', registry_auth=[dict(server='r', username='u', password='p')]),
     'mutually exclusive: registry_secret|registry_auth'),
    (dict(local_context=dict(path='/src/app')), 'mutually exclusive: git|local_context'),
    (dict(local_context=dict(max_size='1Gi')), 'path'),
    (dict(tarball=dict(file='/tmp/a.tar')), 'file'),
])
def test_argument_spec_refuses(overrides, message):
    assert message in errors(**overrides)


def test_namespace_is_required_and_git_unless_builds():
    validator = ArgumentSpecValidator(build.argument_spec(), required_one_of=build.REQUIRED_ONE_OF)
    text = ' | '.join(validator.validate({}).error_messages)
    assert 'namespace' in text and 'one of the following is required: git, local_context, builds' in text
    assert not validator.validate(dict(namespace='builds', builds=[{}])).error_messages


def test_credentials_are_no_log():
    result = validate(registry_auth=[dict(server='registry:5000', username='builder', password='s3cr3t-pw')],
                      api_key='api-token', password='api-password',
                      proxy_headers=dict(proxy_basic_auth='u:proxy-pw'))
    assert not result.error_messages
    assert {'s3cr3t-pw', 'api-token', 'api-password', 'u:proxy-pw'} <= set(result._no_log_values)
    for name in ('git', 'registry_secret', 'pod'):
        assert name not in result._no_log_values


def test_connection_options_take_kubernetes_core_aliases_and_variables(monkeypatch):
    monkeypatch.setenv('K8S_AUTH_CONTEXT', 'lab')
    monkeypatch.setenv('K8S_AUTH_IMPERSONATE_GROUPS', 'a,b')
    params = validate(verify_ssl=False, ssl_ca_cert='/ca.pem', cert_file='/c.pem', key_file='/k.pem').validated_parameters
    assert params['validate_certs'] is False
    assert (params['ca_cert'], params['client_cert'], params['client_key']) == ('/ca.pem', '/c.pem', '/k.pem')
    assert params['context'] == 'lab'
    assert params['impersonate_groups'] == ['a', 'b']


def test_main_reports_a_validation_error_before_touching_a_cluster(capsys):
    result = run_main(capsys, dict(BASE, destinations=[]))
    assert result['failed'] is True
    assert result['changed'] is False
    assert result['option'] == 'destinations'
    assert result['msg'] == 'destinations: at least one is needed to push; give one, or set push: false'


def test_main_reports_the_bad_destination(capsys):
    result = run_main(capsys, dict(BASE, destinations=['registry:5000/rng:latest', 'Foo/Bar']))
    assert result['msg'] == ("destinations[1]: 'Foo/Bar' is not a valid image reference (repository names are "
                             "lower case); use e.g. registry:5000/team/app:tag")


def test_main_without_any_connection(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv('HOME', str(tmp_path))
    for name in ('KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'K8S_AUTH_KUBECONFIG', 'K8S_AUTH_HOST', 'K8S_AUTH_CONTEXT'):
        monkeypatch.delenv(name, raising=False)
    result = run_main(capsys, dict(BASE), check_mode=True)
    assert result['failed'] is True
    assert result['msg'].startswith('No Kubernetes connection')


def test_main_does_not_echo_secrets(capsys):
    result = run_main(capsys, dict(BASE, timeout=0, registry_auth=[dict(server='r:5000', username='u', password='s3cr3t-pw')]))
    assert result['msg'] == 'timeout: must be a positive number of seconds'
    assert 's3cr3t-pw' not in json.dumps(result)


def test_max_concurrent_below_one_is_refused_for_one_build_too(capsys):
    result = run_main(capsys, dict(BASE, max_concurrent=0))
    assert result['failed'] is True and result['changed'] is False
    assert result['msg'] == 'max_concurrent: must be 1 or more'


@pytest.mark.parametrize('option, value', [('cache_repo', 'registry:5000/cache'), ('cache_ttl', '24h')])
def test_cache_options_without_the_cache_say_how_to_fix_it(capsys, option, value):
    result = run_main(capsys, dict(BASE, cache=False, **{option: value}))
    assert result['msg'] == ('{0}: has no effect when cache is false; set cache to true or auto, '
                             'or leave {0} out'.format(option))
