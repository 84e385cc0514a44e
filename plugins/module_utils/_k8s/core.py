# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The core/v1 calls a build makes, as raw JSON over the connection of a kubernetes ApiClient.

kubernetes.client.CoreV1Api and kubernetes.watch import the models of the whole core/v1 group; on a
two-core machine that is over a second at every start of the module, longer than the module's own work
before the pod exists. The build reads and writes plain JSON, so CoreApi sends the requests itself
through the ApiClient's connection pool (TLS, client certificates and proxies as the kubeconfig set
them), with the ApiClient's headers and the Configuration's bearer token (refreshed by its hook, as for
exec and OIDC credentials). Errors are raised as kubernetes.client.exceptions.ApiException, as the client
raises them.

The methods take the names and arguments of CoreV1Api's methods, and always return the raw response
(``data`` holds the body). Any other CoreV1Api method is served by a CoreV1Api over the same ApiClient,
imported on first use.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator, List, Mapping, Tuple, Union
from urllib.parse import quote, urlencode

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.client import _Patient

try:
    import urllib3
    from kubernetes.client.exceptions import ApiException
except ImportError:  # reported by client.require_kubernetes
    urllib3 = ApiException = None  # type: ignore[assignment]

JSON = 'application/json'
# Seconds a single request (not a watch or a log follow) may take.
REQUEST_TIMEOUT = 60
# A request's timeout as the kubernetes client takes it: seconds in all, or (connect, read) seconds.
RequestTimeout = Union[float, Tuple[float, float], List[float], None]


def _camel(name: str) -> str:
    head, _sep, tail = name.partition('_')
    return head + ''.join(part.title() for part in tail.split('_')) if tail else head


def query_string(params: Mapping[str, Any]) -> str:
    """The query of a request from CoreV1Api-style keyword arguments (field_selector -> fieldSelector)."""
    pairs = []
    for name in sorted(params):
        value = params[name]
        if name.startswith('_') or value is None:
            continue
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        pairs.append((_camel(name), value))
    return urlencode(pairs)


def _timeout(value: RequestTimeout) -> urllib3.Timeout | None:
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return urllib3.Timeout(connect=value[0], read=value[1])
    return urllib3.Timeout(total=value)


class Response:
    """A response read to its end: ``status``, ``headers``, ``data`` (bytes)."""

    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self.status = status
        self.headers = headers
        self.data = data


def api_exception(status: int, reason: str, headers: Mapping[str, str], body: bytes | str) -> ApiException:
    """An ApiException as the kubernetes client raises it (status, reason, headers, body)."""
    exc = ApiException(status=status, reason=reason)
    exc.headers = headers
    exc.body = body.decode('utf-8', 'replace') if isinstance(body, bytes) else body
    return exc


def iter_lines(chunks: Iterable[bytes], max_line: int | None = None, unterminated: bool = True) -> Iterator[str]:
    """Split a stream of byte chunks into text lines (without the line ends).

    A line longer than ``max_line`` bytes (when given) is cut into pieces, so memory stays bounded.
    With ``unterminated`` false, text after the last line end is dropped: a stream that may have been cut
    does not pass off half a line as a whole one.
    """
    pending = b''
    for chunk in chunks:
        pending += chunk
        while True:
            end = pending.find(b'\n')
            if end < 0:
                break
            yield pending[:end].decode('utf-8', 'replace').rstrip('\r')
            pending = pending[end + 1:]
        while max_line is not None and len(pending) > max_line:
            yield pending[:max_line].decode('utf-8', 'replace')
            pending = pending[max_line:]
    if pending and unterminated:
        yield pending.decode('utf-8', 'replace').rstrip('\r')


def watch_events(lines: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(type, object) of each event of a watch; an ERROR event is raised as ApiException (410 when expired)."""
    for line in lines:
        if not line.strip():
            continue
        event = json.loads(line)
        kind, obj = event.get('type'), event.get('object') or {}
        if kind == 'ERROR':
            raise api_exception(obj.get('code') or 500, obj.get('reason') or 'Error', {}, json.dumps(obj))
        yield kind, obj


class CoreApi:
    """See the module docstring."""

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client
        self.configuration = api_client.configuration
        self._pool = api_client.rest_client.pool_manager
        self._full: Any = None
        self._send = _Patient(self._open, self.configuration.host)

    def __getattr__(self, name: str) -> Any:
        if name.startswith('__') or name in ('api_client', 'configuration', '_pool', '_full', '_send'):
            raise AttributeError(name)
        if self._full is None:
            from kubernetes.client import CoreV1Api
            self._full = CoreV1Api(self.api_client)
        return getattr(self._full, name)

    # The requests.

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = dict(self.api_client.default_headers)
        headers['Accept'] = JSON
        if content_type:
            headers['Content-Type'] = content_type
        for setting in (self.configuration.auth_settings() or {}).values():
            if setting.get('in') == 'header' and setting.get('value'):
                headers[setting['key']] = setting['value']
        return headers

    def _open(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
              timeout: RequestTimeout) -> urllib3.BaseHTTPResponse:
        return self._pool.request(method, url, headers=headers, body=body, preload_content=False,
                                  timeout=_timeout(timeout), retries=False)

    def request(self, method: str, path: str, query: Mapping[str, Any] | None = None, body: Any = None,
                content_type: str | None = None, request_timeout: RequestTimeout = None,
                stream: bool = False) -> Any:
        """Send one request; the raw urllib3 response when ``stream``, else a Response read to its end."""
        url = self.configuration.host + path
        encoded = query_string(query or {})
        if encoded:
            url += '?' + encoded
        data = None if body is None else json.dumps(body).encode('utf-8')
        response = self._send(method, url, self._headers(content_type or (JSON if data is not None else None)),
                              data, request_timeout)
        if not 200 <= response.status <= 299:
            try:
                raise api_exception(response.status, response.reason, response.headers, response.data)
            finally:
                response.release_conn()
        if stream:
            return response
        try:
            return Response(response.status, response.headers, response.data)
        finally:
            response.release_conn()

    # core/v1, with CoreV1Api's names.

    @staticmethod
    def _path(namespace: str, resource: str, name: str | None = None, sub: str | None = None) -> str:
        path = '/api/v1/namespaces/{0}/{1}'.format(quote(namespace, safe=''), resource)
        if name is not None:
            path += '/' + quote(name, safe='')
        if sub:
            path += '/' + sub
        return path

    def _call(self, method: str, path: str, kwargs: dict[str, Any], body: Any = None, stream: bool = False) -> Any:
        timeout = kwargs.pop('_request_timeout', None)
        content_type = kwargs.pop('_content_type', None)
        kwargs.pop('_preload_content', None)
        return self.request(method, path, kwargs, body, content_type, timeout, stream)

    def read_namespace(self, name: str, **kwargs: Any) -> Response:
        return self._call('GET', '/api/v1/namespaces/' + quote(name, safe=''), kwargs)

    def list_node(self, **kwargs: Any) -> Response:
        return self._call('GET', '/api/v1/nodes', kwargs)

    def read_node(self, name: str, **kwargs: Any) -> Response:
        return self._call('GET', '/api/v1/nodes/' + quote(name, safe=''), kwargs)

    def read_namespaced_pod(self, name: str, namespace: str, **kwargs: Any) -> Response:
        return self._call('GET', self._path(namespace, 'pods', name), kwargs)

    def list_namespaced_pod(self, namespace: str, **kwargs: Any) -> Response:
        return self._call('GET', self._path(namespace, 'pods'), kwargs)

    def create_namespaced_pod(self, namespace: str, body: Mapping[str, Any], **kwargs: Any) -> Response:
        return self._call('POST', self._path(namespace, 'pods'), kwargs, body)

    def delete_namespaced_pod(self, name: str, namespace: str, **kwargs: Any) -> Response:
        return self._call('DELETE', self._path(namespace, 'pods', name), kwargs)

    def read_namespaced_pod_log(self, name: str, namespace: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
        """The log of a container, as the unread urllib3 response: use stream() and release_conn()."""
        return self._call('GET', self._path(namespace, 'pods', name, 'log'), kwargs, stream=True)

    def list_namespaced_event(self, namespace: str, **kwargs: Any) -> Response:
        return self._call('GET', self._path(namespace, 'events'), kwargs)

    def read_namespaced_secret(self, name: str, namespace: str, **kwargs: Any) -> Response:
        return self._call('GET', self._path(namespace, 'secrets', name), kwargs)

    def list_namespaced_secret(self, namespace: str, **kwargs: Any) -> Response:
        return self._call('GET', self._path(namespace, 'secrets'), kwargs)

    def create_namespaced_secret(self, namespace: str, body: Mapping[str, Any], **kwargs: Any) -> Response:
        return self._call('POST', self._path(namespace, 'secrets'), kwargs, body)

    def patch_namespaced_secret(self, name: str, namespace: str, body: Any, **kwargs: Any) -> Response:
        return self._call('PATCH', self._path(namespace, 'secrets', name), kwargs, body)

    def delete_namespaced_secret(self, name: str, namespace: str, **kwargs: Any) -> Response:
        return self._call('DELETE', self._path(namespace, 'secrets', name), kwargs)

    def read_namespaced_config_map(self, name: str, namespace: str, **kwargs: Any) -> Response:
        return self._call('GET', self._path(namespace, 'configmaps', name), kwargs)

    def watch_namespaced_pods(self, namespace: str, resource_version: str | None = None,
                              timeout_seconds: int | None = None, request_timeout: float | None = None,
                              **selectors: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        """(type, pod) of each change to the pods of ``namespace`` the selectors match, from ``resource_version``.

        Ends when the server ends the watch (after ``timeout_seconds``). An expired version raises
        ApiException 410; a broken or stalled stream raises urllib3's ProtocolError or ReadTimeoutError.
        """
        query = dict(selectors, watch=True, resource_version=resource_version, timeout_seconds=timeout_seconds,
                     allow_watch_bookmarks=True)
        response = self.request('GET', self._path(namespace, 'pods'), query, request_timeout=request_timeout,
                                stream=True)
        try:
            for kind, obj in watch_events(iter_lines(response.stream(65536))):
                yield kind, obj
        finally:
            # The watch may end before the server ends it: drop the connection rather than reuse it.
            response.close()
            response.release_conn()
