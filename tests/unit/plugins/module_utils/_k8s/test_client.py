# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where the connection comes from, and the client built from a kubeconfig (no request is made)."""

from __future__ import annotations

import ssl

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s import client
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import ClusterError

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


def _certificate(directory):
    """A self-signed certificate and its key, as PEM files in ``directory``: (certificate path, key path)."""
    pytest.importorskip('cryptography')
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'kiln-unit')])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    cert_path, key_path = directory / 'client.crt', directory / 'client.key'
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_every_connection_shares_one_tls_context_loaded_once(tmp_path):
    cert, key = _certificate(tmp_path)
    api = client.api_client({'host': 'https://10.0.0.1:6443', 'ca_cert': cert, 'client_cert': cert, 'client_key': key})
    settings = api.rest_client.pool_manager.connection_pool_kw
    # urllib3 loads nothing per connection: no file is left for it, the context holds the CA and the client certificate.
    assert not set(settings) & {'ca_certs', 'ca_cert_data', 'cert_file', 'key_file'}
    context = settings['ssl_context']
    assert context.verify_mode == ssl.CERT_REQUIRED and context.cert_store_stats()['x509_ca'] == 1


def test_without_verification_the_shared_context_verifies_nothing(tmp_path):
    path = tmp_path / 'config'
    path.write_text(KUBECONFIG)
    api = client.api_client({'kubeconfig': str(path)})
    assert api.rest_client.pool_manager.connection_pool_kw['ssl_context'].verify_mode == ssl.CERT_NONE


def test_files_that_cannot_be_loaded_are_left_to_urllib3_and_the_first_request(tmp_path):
    bad = tmp_path / 'ca.crt'
    bad.write_text('not a certificate')
    api = client.api_client({'host': 'https://10.0.0.1:6443', 'ca_cert': str(bad), 'api_key': 'tok'})
    settings = api.rest_client.pool_manager.connection_pool_kw
    assert settings['ca_certs'] == str(bad) and settings.get('ssl_context') is None


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


# ---------------------------------------------------------------- requests when the server is away

class Script(object):
    """A request function that raises or returns what it is told, call after call."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def __call__(self, method, url, *args, **kwargs):
        self.calls.append(method)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class FakeTime(object):
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def refused():
    from urllib3.exceptions import MaxRetryError, NewConnectionError
    reason = NewConnectionError(None, "HTTPSConnection(host='10.77.0.2', port=6443): Failed to establish a new "
                                      "connection: [Errno 111] Connection refused")
    return MaxRetryError(None, '/api/v1/namespaces/builds', reason=reason)


def broken_stream():
    from urllib3.exceptions import ProtocolError
    return ProtocolError('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))


def patient_request(*outcomes):
    fake = FakeTime()
    script = Script(*outcomes)
    return client._Patient(script, 'https://10.77.0.2:6443', fake.clock, fake.sleep, patience=120), script, fake


def test_a_server_that_never_answered_fails_at_once_naming_the_options():
    request, script, fake = patient_request(refused())
    with pytest.raises(client.ApiUnreachable) as caught:
        request('GET', '/api/v1/namespaces/builds')
    message = str(caught.value)
    assert message.startswith('Cannot reach the Kubernetes API server at https://10.77.0.2:6443: '
                              '[Errno 111] Connection refused; ')
    assert 'kubeconfig' in message and 'host' in message
    assert isinstance(caught.value, ClusterError)
    assert fake.slept == [] and script.calls == ['GET']


def test_a_server_that_answered_before_is_tried_again_until_it_is_back():
    request, script, fake = patient_request('listed', refused(), refused(), refused(), 'watched')
    assert request('GET', '/api/v1/pods') == 'listed'
    assert request('GET', '/api/v1/pods?watch=1') == 'watched'
    assert fake.slept == [0.5, 1.0, 2.0]


def test_the_backoff_stops_growing_and_the_patience_ends():
    request, _script, fake = patient_request('listed', *[refused()] * 40)
    request('GET', '/api/v1/pods')
    with pytest.raises(client.ApiUnreachable) as caught:
        request('GET', '/api/v1/pods')
    assert max(fake.slept) == client.BACKOFF_MAX
    assert fake.now >= 120
    assert str(caught.value).startswith('Lost the Kubernetes API server at https://10.77.0.2:6443 for ')


def test_a_create_is_sent_again_only_when_it_never_reached_the_server():
    request, script, _fake = patient_request('listed', refused(), 'created')
    request('GET', '/api/v1/pods')
    assert request('POST', '/api/v1/namespaces/builds/pods') == 'created'

    request, script, _fake = patient_request('listed', broken_stream(), 'created twice')
    request('GET', '/api/v1/pods')
    with pytest.raises(client.ApiUnreachable):
        request('POST', '/api/v1/namespaces/builds/pods')
    assert script.calls == ['GET', 'POST']


def test_http_errors_are_answers_and_pass_through():
    from kubernetes.client.exceptions import ApiException
    request, script, fake = patient_request(ApiException(status=404, reason='Not Found'), refused(), 'ok')
    with pytest.raises(ApiException):
        request('GET', '/api/v1/namespaces/missing')
    assert request('DELETE', '/api/v1/namespaces/builds/pods/p') == 'ok'
    assert fake.slept == [0.5]


def test_tls_failures_are_not_retried_and_point_at_the_certificate_options():
    from kubernetes.client.exceptions import ApiException
    request, _script, fake = patient_request('listed', ApiException(status=0, reason='SSLError\ncertificate verify failed'))
    request('GET', '/version')
    with pytest.raises(client.ApiUnreachable) as caught:
        request('GET', '/api/v1/pods')
    assert fake.slept == []
    request, _script, _fake = patient_request(ApiException(status=0, reason='SSLError\ncertificate verify failed'))
    with pytest.raises(client.ApiUnreachable) as caught:
        request('GET', '/api/v1/pods')
    assert 'ca_cert' in str(caught.value) and 'validate_certs' in str(caught.value)


def test_every_request_of_the_client_goes_through_the_patience(tmp_path):
    path = tmp_path / 'config'
    path.write_text(KUBECONFIG)
    api = client.api_client({'kubeconfig': str(path)})
    assert isinstance(api.rest_client.request, client._Patient)
    assert api.rest_client.request.host == 'https://10.77.0.2:6443'
