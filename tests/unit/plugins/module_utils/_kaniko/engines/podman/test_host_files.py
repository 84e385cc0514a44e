# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""HostSecrets: what kiln.kaniko.container_build reads where kiln.kaniko.build reads Secrets. The git credentials
are answered as the keys of a git.secret Secret, the CA files of registry_ca as their PEM text, and a file of the
host that cannot be used fails naming its option."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Checked
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import host_files
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.host_files import HostSecrets
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.container_build import GitCredentials
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.spec.test_container_build import spec_of

TOKEN = 'ghp_not-a-real-token'
PASSWORD = 'not-a-real-password'
KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nkey-material\n-----END OPENSSH PRIVATE KEY-----\n'
KNOWN_HOSTS = 'git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE\n'
CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'


def write(path, text):
    path.write_text(text)
    return str(path)


def ssh_files(tmp_path):
    return write(tmp_path / 'id_ed25519', KEY), write(tmp_path / 'known_hosts', KNOWN_HOSTS)


def refused(call):
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize('git, option, keys', [
    (dict(token=TOKEN), 'git.token', {'token': TOKEN}),
    (dict(token=TOKEN, username='ci'), 'git.token', {'token': TOKEN, 'username': 'ci'}),
    (dict(username='ci', password=PASSWORD), 'git.username', {'username': 'ci', 'password': PASSWORD}),
])
def test_https_credentials_are_answered_as_the_keys_of_a_git_secret(git, option, keys):
    spec, credentials = spec_of(git=dict(repo='https://git.example.com/app.git', **git))
    secrets = HostSecrets(credentials)
    assert spec.git.secret == option
    assert secrets.data(None, spec.git.secret) == keys
    assert secrets.check(spec) == Checked(render.DOCKERCONFIGJSON)


def test_ssh_credentials_are_the_files_read_as_the_keys_of_a_git_secret(tmp_path):
    key_file, known_hosts_file = ssh_files(tmp_path)
    spec, credentials = spec_of(git=dict(repo='ssh://git@git.example.com/app.git', key_file=key_file,
                                         known_hosts_file=known_hosts_file))
    secrets = HostSecrets(credentials)
    assert secrets.data(None, spec.git.secret) == {'ssh-privatekey': KEY, 'known_hosts': KNOWN_HOSTS}
    assert secrets.check(spec) == Checked(render.DOCKERCONFIGJSON)


def test_the_files_are_read_once(tmp_path):
    key_file, known_hosts_file = ssh_files(tmp_path)
    secrets = HostSecrets(GitCredentials(option='git.key_file', key_file=key_file, known_hosts_file=known_hosts_file))
    first = secrets.data(None, 'git.key_file')
    os.remove(key_file)
    assert secrets.data(None, 'git.key_file') == first == {'ssh-privatekey': KEY, 'known_hosts': KNOWN_HOSTS}


def test_a_name_that_is_not_the_credentials_is_no_secret():
    _spec, credentials = spec_of(git=dict(repo='https://git.example.com/app.git', token=TOKEN))
    secrets = HostSecrets(credentials)
    assert secrets.data(None, 'push-secret') is None
    assert HostSecrets().data(None, 'git.token') is None


@pytest.mark.parametrize('missing, option', [('key_file', 'git.key_file'), ('known_hosts_file', 'git.known_hosts_file')])
def test_a_credential_file_that_cannot_be_read_names_its_option(tmp_path, missing, option):
    files = dict(zip(('key_file', 'known_hosts_file'), ssh_files(tmp_path)))
    files[missing] = str(tmp_path / 'gone')
    secrets = HostSecrets(GitCredentials(option='git.key_file', **files))
    error = refused(lambda: secrets.data(None, 'git.key_file'))
    assert error.option == option
    assert error.message == ('{0}: cannot read {1}: No such file or directory; give a readable file on the host that '
                             'runs the module'.format(option, tmp_path / 'gone'))
    # check(), which the preparation calls before anything is made, reads them too
    spec = SimpleNamespace(namespace=None, git=SimpleNamespace(secret='git.key_file'), registry_ca=())
    assert refused(lambda: HostSecrets(secrets.credentials).check(spec)).option == option


def test_a_directory_is_not_a_credential_file(tmp_path):
    _key_file, known_hosts_file = ssh_files(tmp_path)
    secrets = HostSecrets(GitCredentials(option='git.key_file', key_file=str(tmp_path), known_hosts_file=known_hosts_file))
    error = refused(lambda: secrets.data(None, 'git.key_file'))
    assert error.option == 'git.key_file' and 'Is a directory' in error.message


def test_a_file_over_1_mib_is_refused(tmp_path):
    key_file, _known_hosts_file = ssh_files(tmp_path)
    big = write(tmp_path / 'big', 'x' * (host_files.MAX_FILE + 1))
    secrets = HostSecrets(GitCredentials(option='git.key_file', key_file=key_file, known_hosts_file=big))
    error = refused(lambda: secrets.data(None, 'git.key_file'))
    assert error.option == 'git.known_hosts_file' and 'larger than 1 MiB' in error.message


def test_a_ca_file_is_answered_as_its_pem_text_once(tmp_path):
    path = write(tmp_path / 'ca.pem', CA_PEM)
    spec, _credentials = spec_of(registry_ca=[dict(registry='registry.example.com', path=path)])
    secrets = HostSecrets()
    assert secrets.registry_ca(None, spec.registry_ca[0], 'registry_ca[0]') == CA_PEM
    os.remove(path)
    assert secrets.registry_ca(None, spec.registry_ca[0], 'registry_ca[0]') == CA_PEM


def test_a_ca_file_that_cannot_be_read_or_holds_no_certificate_names_its_option(tmp_path):
    spec, _credentials = spec_of(registry_ca=[dict(registry='registry.example.com', path=str(tmp_path / 'gone.pem')),
                                              dict(registry='mirror.example.com', path=write(tmp_path / 'key.pem', KEY))])
    missing, not_pem = spec.registry_ca
    error = refused(lambda: HostSecrets().registry_ca(None, missing, 'registry_ca[0]'))
    assert error.option == 'registry_ca[0].path' and 'cannot read {0}'.format(tmp_path / 'gone.pem') in error.message
    error = refused(lambda: HostSecrets().registry_ca(None, not_pem, 'registry_ca[1]'))
    assert error.message == ('registry_ca[1].path: {0} holds no PEM certificate (-----BEGIN CERTIFICATE-----); give the '
                             'CA of mirror.example.com in PEM'.format(tmp_path / 'key.pem'))
