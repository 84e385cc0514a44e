# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A stand-in for open_url that answers like a registry with a token service, from a table."""

from __future__ import annotations

import base64
import hashlib
import email.message
import io
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlsplit


def headers_of(values):
    message = email.message.Message()
    for name, value in values:
        message[name] = value
    return message


class FakeResponse(object):

    def __init__(self, url, status, headers, body):
        self.url = url
        self.status = status
        self.headers = headers
        self._body = io.BytesIO(body)

    def read(self, size=-1):
        return self._body.read(size)

    def getcode(self):
        return self.status

    def geturl(self):
        return self.url


def basic(user, password):
    return 'Basic ' + base64.b64encode(('%s:%s' % (user, password)).encode()).decode()


class FakeRegistry(object):
    """Serves ``content`` ({path: (headers list, body)}) under http(s)://<host>.

    auth: None (anonymous), 'basic' (htpasswd-style) or 'bearer' (token service at /token on the same host).
    """

    def __init__(self, content, auth=None, users=None, host='registry.test:5000', scheme='https'):
        self.content = content
        self.auth = auth
        self.users = users or {}
        self.base = '%s://%s' % (scheme, host)
        self.requests = []
        self.issued = {}
        self.written = []

    def _challenge(self, scope=None):
        if self.auth == 'basic':
            return 'Basic realm="test registry"'
        value = 'Bearer realm="%s/token",service="registry.test"' % self.base
        if scope:
            value += ',scope="%s"' % scope
        return value

    def _fail(self, url, code, headers=(), body=b''):
        raise HTTPError(url, code, 'status %d' % code, headers_of(headers), io.BytesIO(body))

    def __call__(self, url, method='GET', headers=None, **kwargs):
        headers = dict(headers or {})
        self.requests.append((method, url, headers, kwargs))
        if not url.startswith(self.base):
            raise AssertionError('unexpected host in %s' % url)
        parts = urlsplit(url)
        path = parts.path
        authorization = headers.get('Authorization')
        if path == '/token':
            query = parse_qs(parts.query)
            if authorization and authorization not in [basic(u, p) for u, p in self.users.items()]:
                self._fail(url, 401, body=b'{"details":"incorrect username or password"}')
            token = 'token-%d' % (len(self.issued) + 1)
            self.issued[token] = (authorization, query.get('scope', []))
            return FakeResponse(url, 200, headers_of([('Content-Type', 'application/json')]),
                                b'{"token":"%s"}' % token.encode())
        scope = None
        if path.startswith('/v2/') and path != '/v2/':
            repository = path[4:].rsplit('/manifests/', 1)[0].rsplit('/blobs/', 1)[0].rsplit('/tags/', 1)[0]
            scope = 'repository:%s:%s' % (repository, 'pull,push' if method == 'PUT' else 'pull')
        if self.auth == 'basic' and authorization not in [basic(u, p) for u, p in self.users.items()]:
            self._fail(url, 401, [('WWW-Authenticate', self._challenge())],
                       b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
        if self.auth == 'bearer':
            token = (authorization or '').replace('Bearer ', '', 1)
            if token not in self.issued or (scope and scope not in self.issued[token][1]):
                self._fail(url, 401, [('WWW-Authenticate', self._challenge(scope))],
                           b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
        if method == 'PUT':
            return self._put(url, path, headers, kwargs.get('data') or b'')
        key = path + ('?' + parts.query if parts.query else '')
        if key not in self.content:
            self._fail(url, 404, [('Content-Type', 'application/json')],
                       b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
        answer = self.content[key]
        if isinstance(answer, int):
            self._fail(url, answer, [], b'{"errors":[{"code":"UNKNOWN","message":"boom"}]}')
        response_headers, body = answer
        return FakeResponse(url, 200, headers_of(response_headers), body)

    def _put(self, url, path, headers, body):
        """Store a manifest under its tag and its digest, as a registry does; ``put`` in content answers
        with that status instead."""
        if '/manifests/' not in path:
            raise AssertionError('only manifests are written: %s' % url)
        refused = self.content.get(('PUT', path))
        if isinstance(refused, int):
            self._fail(url, refused, [], b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}')
        digest = 'sha256:' + hashlib.sha256(body).hexdigest()
        answer = ([('Content-Type', headers.get('Content-Type')), ('Docker-Content-Digest', digest)], body)
        repository = path.rsplit('/manifests/', 1)[0]
        self.content[path] = answer
        self.content[repository + '/manifests/' + digest] = answer
        self.written.append((path, headers.get('Content-Type'), body))
        return FakeResponse(url, 201, headers_of([('Docker-Content-Digest', digest)]), b'')
