# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read the Secrets and ConfigMaps that build options name, once per run."""

from __future__ import annotations

import base64
import json
import threading

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import REQUEST_TIMEOUT
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import ClusterError, cluster_error, refusal

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:
    ApiException = None  # _k8s.client.require_kubernetes() reports the missing library before anything here runs

PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----'


class SecretReader(object):
    """Reads each Secret (and each ConfigMap, for registry_ca) once per run. Secret values stay here and in
    the files identity/commit.py removes again; they reach no result, log line, argument or environment variable."""

    def __init__(self, core, warn):
        self._core = core
        self._warn = warn
        self._read = {}
        self._lock = threading.Lock()

    def read(self, namespace, name, option):
        """(type, {key: text}) of the Secret, or None when it may not be read (403)."""
        with self._lock:
            return self._read_once('Secret', namespace, name, option)

    def read_config_map(self, namespace, name, option):
        """{key: text} of the ConfigMap (data and binaryData), or None when it may not be read (403)."""
        with self._lock:
            read = self._read_once('ConfigMap', namespace, name, option)
        return read[1] if read else None

    def _read_once(self, kind, namespace, name, option):
        key = (kind, namespace, name)
        if key not in self._read:
            reader = self._core.read_namespaced_secret if kind == 'Secret' else self._core.read_namespaced_config_map
            try:
                response = reader(name, namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
            except ApiException as exc:
                if exc.status == 404:
                    raise ClusterError("{0}: {1} '{2}' was not found in namespace '{3}'; create it there, "
                                       "or correct the name".format(option, kind, name, namespace), {'option': option})
                if exc.status == 403:
                    self._warn("Could not read {0} '{1}' ({2}) to check it: {3}".format(
                        kind, name, option, refusal(exc)))
                    self._read[key] = None
                    return None
                raise cluster_error(exc, "read {0} '{1}' ({2})".format(kind, name, option))
            item = json.loads(response.data)
            data = {}
            encoded = item.get('data') if kind == 'Secret' else item.get('binaryData')
            for entry, value in (encoded or {}).items():
                try:
                    data[entry] = base64.b64decode(value).decode('utf-8', 'replace')
                except (TypeError, ValueError):
                    data[entry] = ''
            if kind == 'ConfigMap':
                data.update((entry, value if isinstance(value, str) else '')
                            for entry, value in (item.get('data') or {}).items())
            self._read[key] = (item.get('type'), data)
        return self._read[key]

    def data(self, namespace, name):
        """The Secret's decoded data, or None when it is missing or may not be read."""
        try:
            read = self.read(namespace, name, 'secret')
        except ClusterError:
            return None
        return read[1] if read else None

    def registry_ca(self, namespace, ca, option='registry_ca'):
        """The text of the key that holds the CA of ``ca`` (a RegistryCA), or None when its Secret or ConfigMap
        may not be read. Raises ClusterError, naming ``option``, when the object or the key is missing or the
        key holds no PEM certificate."""
        where = '{0}.{1}'.format(option, ca.source)
        if ca.kind == 'Secret':
            read = self.read(namespace, ca.name, where)
            data = read[1] if read else None
        else:
            data = self.read_config_map(namespace, ca.name, where)
        if data is None:
            return None
        if ca.key not in data:
            raise ClusterError("{0}.key: {1} '{2}' has no key '{3}'; put the registry's CA (PEM) under that key, or "
                               "name the key that holds it in {0}.key (it has: {4})".format(
                                   option, ca.kind, ca.name, ca.key, ', '.join(sorted(data)) or 'no keys'),
                               {'option': option + '.key'})
        if PEM_CERTIFICATE not in data[ca.key]:
            raise ClusterError("{0}.key: key '{1}' of {2} '{3}' holds no PEM certificate ({4}); put the registry's CA "
                               "there, as the registry role's kiln_registry_ca fact or a ca.crt file has it".format(
                                   option, ca.key, ca.kind, ca.name, PEM_CERTIFICATE), {'option': option + '.key'})
        return data[ca.key]
