# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A kubernetes.client.ApiClient built from the connection options of args.py.

Where the connection comes from, in order:

1. ``kubeconfig`` or ``context`` given: that kubeconfig (file path, or a dict), that context;
   explicit options (host, api_key, ...) override what it says.
2. ``host`` given: the explicit options alone.
3. a kubeconfig exists (``KUBECONFIG``, else ``~/.kube/config``): its current context.
4. running in a pod (an AWX container group, for example): the pod's service account.

Every request goes through ``_Patient``: a server that has never answered is reported at once
(ApiUnreachable, naming the address and the options to check); one that answered before and then
cannot be reached (a restart, a failover, a network blip) is tried again, with backoff, for up to
OUTAGE_PATIENCE seconds, so that a build is not lost to an API server restart.
"""

from __future__ import annotations

import base64
import os
import ssl
import time
import traceback
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import ClusterError

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    import urllib3
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import (ConnectTimeoutError, MaxRetryError, NewConnectionError, ProtocolError,
                                    ReadTimeoutError)
    from urllib3.exceptions import SSLError as Urllib3SSLError
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None

if TYPE_CHECKING:
    from ansible.module_utils.basic import AnsibleModule

SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

# How long to keep trying an API server that answered before and now cannot be reached.
OUTAGE_PATIENCE = 120
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 5.0
# Requests that may be sent again even when the server may have received them.
IDEMPOTENT_METHODS = frozenset(('GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'))

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


def require_kubernetes(module: AnsibleModule) -> None:
    """Fail the module when the kubernetes Python library is missing (call once, at the edge)."""
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib('kubernetes'), exception=KUBERNETES_IMPORT_ERROR)


def connection_source(params: Mapping[str, Any], environ: Mapping[str, str] | None = None,
                      exists: Callable[[str], bool] = os.path.exists) -> str | None:
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

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other


class ApiUnreachable(ClusterError):
    """No answer from the Kubernetes API server: never (a wrong address), or no longer (an outage)."""


def _failure(exc: Exception) -> tuple[bool, bool, str] | None:
    """(transient, connect_only, reason) of an error raised by a request, or None if it is not a connection error.

    ``transient``: another try may work; ``connect_only``: the request never reached the server.
    """
    if isinstance(exc, ApiException):
        # The client turns TLS failures into ApiException with status 0: no answer, not transient.
        return (False, True, exc.reason) if exc.status == 0 else None
    cause = exc.reason if isinstance(exc, MaxRetryError) and exc.reason is not None else exc
    if isinstance(cause, Urllib3SSLError):
        return False, True, 'TLS: {0}'.format(cause)
    if isinstance(cause, (NewConnectionError, ConnectTimeoutError)):
        return True, True, _reason(cause)
    if isinstance(cause, (ProtocolError, ReadTimeoutError, MaxRetryError)):
        return True, False, _reason(cause)
    return None


def _reason(error: Exception) -> str:
    """The innermost useful words of a urllib3 error, such as '[Errno 111] Connection refused'."""
    text = str(error)
    marker = 'Failed to establish a new connection: '
    return text.split(marker, 1)[1] if marker in text else text


class _Patient:
    """Wraps the request method of a kubernetes RESTClientObject (see the module docstring)."""

    def __init__(self, request: Callable[..., Any], host: str, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, patience: float = OUTAGE_PATIENCE) -> None:
        self._request = request
        self.host = host
        self.clock = clock
        self.sleep = sleep
        self.patience = patience
        self.answered = False

    def __call__(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        since: float | None = None
        delay = BACKOFF_FIRST
        while True:
            try:
                response = self._request(method, url, *args, **kwargs)
            except (ApiException, urllib3.exceptions.HTTPError) as exc:
                failure = _failure(exc)
                if failure is None:
                    if isinstance(exc, ApiException):
                        self.answered = True
                    raise
                transient, connect_only, reason = failure
                retry = transient and self.answered and (connect_only or method.upper() in IDEMPOTENT_METHODS)
                now = self.clock()
                since = now if since is None else since
                if not retry or now - since >= self.patience:
                    raise self._unreachable(reason, now - since) from exc
                self.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            self.answered = True
            return response

    def _unreachable(self, reason: str, waited: float) -> ApiUnreachable:
        if self.answered:
            return ApiUnreachable(
                'Lost the Kubernetes API server at {0}{1}: {2}'.format(
                    self.host, ' for {0:.0f} s'.format(waited) if waited else '', reason),
                {'api_server': self.host})
        hint = ('check ca_cert and validate_certs (K8S_AUTH_SSL_CA_CERT, K8S_AUTH_VERIFY_SSL)' if 'TLS' in reason
                or 'SSL' in reason else 'check kubeconfig and context, or host (K8S_AUTH_KUBECONFIG, K8S_AUTH_HOST), '
                'and that the cluster is running')
        return ApiUnreachable('Cannot reach the Kubernetes API server at {0}: {1}; {2}'.format(self.host, reason, hint),
                              {'api_server': self.host})


def patient(client: k8s_client.ApiClient, clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep, patience: float = OUTAGE_PATIENCE) -> _Patient:
    """Route every request of ``client`` (an ApiClient) through _Patient; return the _Patient."""
    rest = client.rest_client
    # An instance attribute: the client's own GET/POST/... helpers call self.request, and find it.
    rest.request = _Patient(rest.request, client.configuration.host, clock, sleep, patience)
    return rest.request


# What urllib3 loads into a new TLS context for each connection it opens, unless it is given one context.
_TLS_FILES = ('ca_certs', 'ca_cert_data', 'cert_file', 'key_file')


def share_tls(client: k8s_client.ApiClient) -> None:
    """One TLS context for every connection of ``client``, with its CA and client certificate loaded once.

    Given the files, urllib3 builds a context for each connection it opens and loads them into it again, over a
    millisecond of CPU each time, and a run of many builds opens a connection for each build's log stream (cut when
    the build ends). A proxy keeps urllib3's own way, and so do files that cannot be loaded: the first request then
    fails, saying so, as it did before."""
    pool = client.rest_client.pool_manager
    settings = pool.connection_pool_kw
    # The plain PoolManager only: its subclasses are the proxies (ProxyManager, urllib3.contrib.socks'
    # SOCKSProxyManager), which keep urllib3's own way; isinstance() would let them through.
    # pylint: disable-next=unidiomatic-typecheck
    if type(pool) is not urllib3.PoolManager or settings.get('ssl_context') is not None:
        return
    context = urllib3.util.ssl_.create_urllib3_context(cert_reqs=settings.get('cert_reqs'))
    try:
        if settings.get('ca_certs') or settings.get('ca_cert_data'):
            context.load_verify_locations(cafile=settings.get('ca_certs'), cadata=settings.get('ca_cert_data'))
        elif context.verify_mode != ssl.CERT_NONE:
            context.load_default_certs()  # what urllib3 does without a CA
        if settings.get('cert_file'):
            context.load_cert_chain(settings['cert_file'], settings.get('key_file'))
    except (OSError, ValueError):  # ssl.SSLError is an OSError
        return
    for key in _TLS_FILES:
        settings.pop(key, None)
    settings['ssl_context'] = context


def _load_kubeconfig(params: Mapping[str, Any], configuration: k8s_client.Configuration) -> None:
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
            where, " (context '{0}')".format(context) if context else '', exc)) from exc


def api_client(params: Mapping[str, Any]) -> k8s_client.ApiClient:
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
            raise ClusterError('Could not use the in-cluster service account: {0}'.format(exc)) from exc

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
    share_tls(client)
    patient(client)
    return client
