# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where the connection comes from, and the client built from a kubeconfig (no request is made)."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s import client
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.exceptions import ClusterError

pytest.importorskip('kubernetes')

KUBECONFIG = """
apiVersion: v1
kind: Config
current-context: lab
clusters:
- name: lab
  cluster: {server: 'https://10.77.0.2:6443', insecure-skip-tls-verify: true}
- name: other
  cluster: {server: 'https://other.example:6443', insecure-skip-tls-verify: true}
users:
- name: builder
  user: {token: lab-token}
contexts:
- name: lab
  context: {cluster: lab, user: builder}
- name: other
  context: {cluster: other, user: builder}
"""


def bearer(api):
    return api.configuration.auth_settings()['BearerToken']['value']


def exists_only(*paths):
    return lambda path: path in paths


@pytest.mark.parametrize('params, environ, files, expected', [
    ({'kubeconfig': '/k'}, {}, (), 'kubeconfig'),
    ({'context': 'lab'}, {}, (), 'kubeconfig'),
    ({'kubeconfig': '/k', 'host': 'https://h'}, {}, (), 'kubeconfig'),
    ({'host': 'https://h', 'api_key': 't'}, {'KUBECONFIG': '/k'}, (), 'explicit'),
    ({}, {'KUBECONFIG': '/k'}, (), 'kubeconfig'),
    ({}, {'HOME': '/home/u'}, ('/home/u/.kube/config',), 'kubeconfig'),
    ({}, {'HOME': '/home/u', 'KUBERNETES_SERVICE_HOST': '10.96.0.1'}, (client.SERVICE_ACCOUNT_TOKEN,), 'incluster'),
    ({}, {'HOME': '/home/u', 'KUBERNETES_SERVICE_HOST': '10.96.0.1'}, (), None),
    ({}, {'HOME': '/home/u'}, (), None),
])
def test_connection_source(monkeypatch, params, environ, files, expected):
    monkeypatch.setenv('HOME', environ.get('HOME', '/home/u'))
    assert client.connection_source(params, environ, exists_only(*files)) == expected


def test_client_from_a_kubeconfig_file(tmp_path):
    path = tmp_path / 'config'
    path.write_text(KUBECONFIG)
    api = client.api_client({'kubeconfig': str(path)})
    assert api.configuration.host == 'https://10.77.0.2:6443'
    assert bearer(api) == 'Bearer lab-token'


def test_context_and_explicit_options_override(tmp_path):
    path = tmp_path / 'config'
    path.write_text(KUBECONFIG)
    api = client.api_client({'kubeconfig': str(path), 'context': 'other', 'api_key': 'override',
                             'impersonate_user': 'ci', 'impersonate_groups': ['a', 'b']})
    assert api.configuration.host == 'https://other.example:6443'
    assert bearer(api) == 'Bearer override'
    headers = [(str(k), v) for k, v in api.default_headers.items() if str(k).startswith('Impersonate')]
    assert sorted(headers) == [('Impersonate-Group', 'a'), ('Impersonate-Group', 'b'), ('Impersonate-User', 'ci')]


def test_explicit_host(tmp_path):
    api = client.api_client({'host': 'https://10.0.0.1:6443/', 'api_key': 'tok', 'validate_certs': False})
    assert api.configuration.host == 'https://10.0.0.1:6443'
    assert api.configuration.verify_ssl is False


def test_a_bad_context_is_named(tmp_path):
    path = tmp_path / 'config'
    path.write_text(KUBECONFIG)
    with pytest.raises(ClusterError) as caught:
        client.api_client({'kubeconfig': str(path), 'context': 'missing'})
    assert str(caught.value).startswith("Could not load the kubeconfig given in kubeconfig (context 'missing'): ")


def test_no_connection_at_all(monkeypatch, tmp_path):
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.delenv('KUBECONFIG', raising=False)
    monkeypatch.delenv('KUBERNETES_SERVICE_HOST', raising=False)
    with pytest.raises(ClusterError) as caught:
        client.api_client({})
    assert str(caught.value).startswith('No Kubernetes connection')
