# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SecretReader: each Secret and ConfigMap an option names, read once; a missing one, a missing key or a key
without a certificate is named with the option and the fix."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import ClusterError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.secrets import SecretReader
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore as Core
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.runs import single


@pytest.mark.parametrize('option, overrides', [
    ('registry_secret', {'registry_secret': 'push-secret'}),
    ('git.secret', {'git': {'repo': 'https://git.example.com/app.git', 'secret': 'git-token'}}),
])
def test_a_missing_secret_is_named_with_the_fix(option, overrides):
    with pytest.raises(ClusterError) as caught:
        single(Core(), **overrides).run()
    assert caught.value.message.startswith('{0}: Secret '.format(option))
    assert caught.value.message.endswith("was not found in namespace 'builds'; create it there, or correct the name")


CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'


@pytest.mark.parametrize('entry, option, kind', [
    (dict(registry='registry:5000', config_map='registry-ca'), 'registry_ca[0].config_map', 'ConfigMap'),
    (dict(registry='registry:5000', secret='registry-ca'), 'registry_ca[0].secret', 'Secret'),
])
def test_a_missing_registry_ca_object_is_named_with_the_fix(entry, option, kind):
    core = Core()
    with pytest.raises(ClusterError) as caught:
        single(core, registry_ca=[entry]).run()
    assert caught.value.message == ("{0}: {1} 'registry-ca' was not found in namespace 'builds'; create it there, "
                                    "or correct the name".format(option, kind))
    assert not core.called('create_pod')


def test_a_registry_ca_key_that_is_missing_or_no_certificate_is_named_with_the_fix():
    core = Core(config_maps={'registry-ca': {'data': {'tls.crt': CA_PEM}}},
                secrets={'registry-ca': {'data': {'ca.crt': base64.b64encode(b'not a certificate').decode()}}})
    with pytest.raises(ClusterError) as caught:
        single(core, registry_ca=[dict(registry='registry:5000', config_map='registry-ca')]).run()
    assert caught.value.message == ("registry_ca[0].key: ConfigMap 'registry-ca' has no key 'ca.crt'; put the "
                                    "registry's CA (PEM) under that key, or name the key that holds it in "
                                    "registry_ca[0].key (it has: tls.crt)")
    with pytest.raises(ClusterError) as caught:
        single(core, registry_ca=[dict(registry='registry:5000', secret='registry-ca')]).run()
    assert caught.value.message.startswith("registry_ca[0].key: key 'ca.crt' of Secret 'registry-ca' holds no PEM "
                                           "certificate (-----BEGIN CERTIFICATE-----); put the registry's CA there")
    assert not core.called('create_pod')


def test_a_registry_ca_is_read_once_from_data_or_binary_data():
    core = Core(config_maps={'registry-ca': {'binaryData': {'ca.crt': base64.b64encode(CA_PEM.encode()).decode()}}})
    reader = SecretReader(core, warn=None)
    ca = make_spec(registry_ca=[dict(registry='registry:5000', config_map='registry-ca')]).registry_ca[0]
    assert reader.registry_ca('builds', ca) == CA_PEM
    assert reader.registry_ca('builds', ca) == CA_PEM
    assert core.calls == [('read_config_map', 'registry-ca')]
