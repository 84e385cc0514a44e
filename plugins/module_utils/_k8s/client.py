# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A kubernetes.client.ApiClient built from the connection options of args.py.

Where the connection comes from, in order:

1. ``kubeconfig`` or ``context`` given: that kubeconfig (file path, or a dict), that context;
   explicit options (host, api_key, ...) override what it says.
2. ``host`` given: the explicit options alone.
3. a kubeconfig exists (``KUBECONFIG``, else ``~/.kube/config``): its current context.
4. running in a pod (an AWX container group, for example): the pod's service account.
"""

from __future__ import annotations

import base64
import os
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.exceptions import ClusterError

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    import urllib3
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None

SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

# Options copied onto the client Configuration when given: option -> attribute.
_CONFIGURATION_ATTRIBUTES = (
    ('host', 'host'),
    ('validate_certs', 'verify_ssl'),
    ('ca_cert', 'ssl_ca_cert'),
    ('client_cert', 'cert_file'),
    ('client_key', 'key_file'),
    ('proxy', 'proxy'),
    ('no_proxy', 'no_proxy'),
)


def require_kubernetes(module):
    """Fail the module when the kubernetes Python library is missing (call once, at the edge)."""
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib('kubernetes'), exception=KUBERNETES_IMPORT_ERROR)


def connection_source(params, environ=None, exists=os.path.exists):
    """Say where the connection comes from: 'kubeconfig', 'explicit', 'incluster' or None."""
    environ = os.environ if environ is None else environ
    if params.get('kubeconfig') or params.get('context'):
        return 'kubeconfig'
    if params.get('host'):
        return 'explicit'
    if environ.get('KUBECONFIG') or exists(os.path.expanduser('~/.kube/config')):
        return 'kubeconfig'
    if environ.get('KUBERNETES_SERVICE_HOST') and exists(SERVICE_ACCOUNT_TOKEN):
        return 'incluster'
    return None


class _RepeatableHeader(str):
    """A header name that stays distinct as a dict key, so a header can be sent more than once.

    Kubernetes reads every Impersonate-Group header; the client keeps headers in a dict.
    """

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other


def _load_kubeconfig(params, configuration):
    kubeconfig = params.get('kubeconfig')
    context = params.get('context')
    try:
        if isinstance(kubeconfig, dict):
            k8s_config.load_kube_config_from_dict(
                config_dict=kubeconfig, context=context,
                client_configuration=configuration, persist_config=False)
        else:
            k8s_config.load_kube_config(
                config_file=kubeconfig or None, context=context,
                client_configuration=configuration, persist_config=False)
    except Exception as exc:  # the loader raises ConfigException, IOError, yaml errors, ...
        # kubeconfig is no_log (it may be a dict with credentials), so its value would show as stars.
        where = 'given in kubeconfig' if kubeconfig else 'from KUBECONFIG or ~/.kube/config'
        raise ClusterError('Could not load the kubeconfig {0}{1}: {2}'.format(
            where, " (context '{0}')".format(context) if context else '', exc))


def api_client(params):
    """Return a kubernetes.client.ApiClient for the connection options in ``params``."""
    source = connection_source(params)
    if source is None:
        raise ClusterError(
            'No Kubernetes connection: set kubeconfig (or K8S_AUTH_KUBECONFIG / KUBECONFIG), '
            'or host with api_key, or run in a pod with a service account')

    configuration = k8s_client.Configuration()
    if source == 'kubeconfig':
        _load_kubeconfig(params, configuration)
    elif source == 'incluster':
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)
        except k8s_config.ConfigException as exc:
            raise ClusterError('Could not use the in-cluster service account: {0}'.format(exc))

    for option, attribute in _CONFIGURATION_ATTRIBUTES:
        value = params.get(option)
        if value is not None:
            setattr(configuration, attribute, value.rstrip('/') if option == 'host' else value)
    if params.get('api_key'):
        # Replace the kubeconfig's token, and its hook that would load it again before each request.
        # Newer clients look the token up as BearerToken, older ones as authorization.
        token = 'Bearer ' + params['api_key']
        configuration.api_key = {'BearerToken': token, 'authorization': token}
        configuration.api_key_prefix = {}
        configuration.refresh_api_key_hook = None
    proxy_headers = {k: v for k, v in (params.get('proxy_headers') or {}).items() if v is not None}
    if proxy_headers:
        configuration.proxy_headers = urllib3.util.make_headers(**proxy_headers)

    client = k8s_client.ApiClient(configuration)
    if params.get('username') and params.get('password'):
        token = base64.b64encode('{0}:{1}'.format(params['username'], params['password']).encode('utf-8'))
        client.set_default_header('Authorization', 'Basic ' + token.decode('ascii'))
    if params.get('impersonate_user'):
        client.set_default_header('Impersonate-User', params['impersonate_user'])
    for group in params.get('impersonate_groups') or []:
        client.set_default_header(_RepeatableHeader('Impersonate-Group'), group)
    return client
