# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A stand-in for open_url that answers like a registry with a token service, from a table; a DELETE of a tag
answers as a real distribution answered it (recorded/, written by tests/lab/record_registry.py)."""

from __future__ import annotations

import base64
import hashlib
import email.message
import io
import json
import os
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlsplit

RECORDED = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'recorded')


def recorded(name, scenario):
    """Scenario ``scenario`` ('delete_enabled' or 'delete_disabled') of recorded/``name``.json: what that
    registry answered to each request, by the recording's names (delete_tag, delete_tag_again, tags_after, ...)."""
    with open(os.path.join(RECORDED, name + '.json')) as handle:
        return json.load(handle)['scenarios'][scenario]


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
    A value of content may also be (status, headers list, body): an answer recorded from a real registry
    (recorded_content reads them from a fixture of tests/lab/record_referrers.py).

    Blobs are uploaded as a registry takes them (POST to open an upload, PUT with the digest), and manifests
    are stored under their tag and digest. referrers_api: False answers the referrers API as distribution 2.8
    and 3.1 do (404, "404 page not found"); True lists the stored manifests whose subject is the digest, and
    answers a PUT of such a manifest with the OCI-Subject header.
    """

    def __init__(self, content, auth=None, users=None, host='registry.test:5000', scheme='https',
                 referrers_api=False, deletes=None):
        self.content = content
        self.referrers_api = referrers_api
        self.uploads = 0
        # A scenario of recorded(): how DELETE of a tag is answered (delete_tag while the tag exists, then
        # delete_tag_again); without one, a DELETE fails the test.
        self.deletes = deletes
        self.deleted = []
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
            repository = repository.rsplit('/referrers/', 1)[0]
            actions = {'PUT': 'pull,push', 'POST': 'pull,push', 'DELETE': 'delete'}.get(method, 'pull')
            scope = 'repository:%s:%s' % (repository, actions)
        if self.auth == 'basic' and authorization not in [basic(u, p) for u, p in self.users.items()]:
            self._fail(url, 401, [('WWW-Authenticate', self._challenge())],
                       b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
        if self.auth == 'bearer':
            token = (authorization or '').replace('Bearer ', '', 1)
            if token not in self.issued or (scope and scope not in self.issued[token][1]):
                self._fail(url, 401, [('WWW-Authenticate', self._challenge(scope))],
                           b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
        if method == 'POST' and path.endswith('/blobs/uploads/'):
            self.uploads += 1
            return FakeResponse(url, 202, headers_of([('Location', '%suploads-%d' % (path, self.uploads))]), b'')
        if method == 'PUT' and '/blobs/uploads/' in path:
            return self._put_blob(url, path, parts.query, kwargs.get('data') or b'')
        if method == 'PUT':
            return self._put(url, path, headers, kwargs.get('data') or b'')
        if '/referrers/' in path and path not in self.content:
            return self._referrers(url, path)
        if method == 'DELETE':
            return self._delete(url, path)
        key = path + ('?' + parts.query if parts.query else '')
        if key not in self.content:
            self._fail(url, 404, [('Content-Type', 'application/json')],
                       b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
        answer = self.content[key]
        if isinstance(answer, int):
            self._fail(url, answer, [], b'{"errors":[{"code":"UNKNOWN","message":"boom"}]}')
        status = 200
        if len(answer) == 3:
            status, response_headers, body = answer
            if status >= 400:
                self._fail(url, status, response_headers, body)
        else:
            response_headers, body = answer
        return FakeResponse(url, status, headers_of(response_headers), b'' if method == 'HEAD' else body)

    def _put_blob(self, url, path, query, body):
        digest = parse_qs(query).get('digest', [''])[0]
        if digest != 'sha256:' + hashlib.sha256(body).hexdigest():
            self._fail(url, 400, [], b'{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match"}]}')
        repository = path.rsplit('/blobs/uploads/', 1)[0]
        self.content['%s/blobs/%s' % (repository, digest)] = ([('Docker-Content-Digest', digest)], body)
        self.written.append((path, 'blob', body))
        return FakeResponse(url, 201, headers_of([('Docker-Content-Digest', digest)]), b'')

    def _referrers(self, url, path):
        if not self.referrers_api:
            self._fail(url, 404, [('Content-Type', 'text/plain; charset=utf-8')], b'404 page not found\n')
        repository, digest = path.rsplit('/referrers/', 1)
        manifests = []
        for key, answer in sorted(self.content.items()):
            if not (isinstance(key, str) and key.startswith(repository + '/manifests/sha256:')) or len(answer) != 2:
                continue
            try:
                doc = json.loads(answer[1])
            except ValueError:
                continue
            if isinstance(doc, dict) and (doc.get('subject') or {}).get('digest') == digest:
                entry = {'mediaType': doc.get('mediaType'), 'digest': key.rsplit('/', 1)[1], 'size': len(answer[1]),
                         'artifactType': doc.get('artifactType') or doc['config'].get('mediaType')}
                if doc.get('annotations'):
                    entry['annotations'] = doc['annotations']
                manifests.append(entry)
        body = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
                           'manifests': manifests}).encode()
        return FakeResponse(url, 200, headers_of([('Content-Type', 'application/vnd.oci.image.index.v1+json')]), body)

    def _put(self, url, path, headers, body):
        """Store a manifest under its tag and its digest, as a registry does; ``put`` in content answers
        with that status instead."""
        if '/manifests/' not in path:
            raise AssertionError('only manifests and uploads are written: %s' % url)
        refused = self.content.get(('PUT', path))
        if isinstance(refused, int):
            self._fail(url, refused, [], b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}')
        digest = 'sha256:' + hashlib.sha256(body).hexdigest()
        answer = ([('Content-Type', headers.get('Content-Type')), ('Docker-Content-Digest', digest)], body)
        repository = path.rsplit('/manifests/', 1)[0]
        self.content[path] = answer
        self.content[repository + '/manifests/' + digest] = answer
        self.written.append((path, headers.get('Content-Type'), body))
        response_headers = [('Docker-Content-Digest', digest)]
        subject = (json.loads(body).get('subject') or {}).get('digest')
        if self.referrers_api and subject:
            response_headers.append(('OCI-Subject', subject))
        return FakeResponse(url, 201, headers_of(response_headers), b'')

    def _delete(self, url, path):
        """Answer a DELETE of a tag as the recorded registry did; a tag it deleted is gone. A DELETE by digest fails
        the test: it would delete the image itself."""
        reference = path.rsplit('/manifests/', 1)[-1]
        if '/manifests/' not in path or ':' in reference or self.deletes is None:
            raise AssertionError('unexpected DELETE %s' % url)
        answer = self.deletes['delete_tag' if path in self.content else 'delete_tag_again']
        headers = [tuple(pair) for pair in answer['headers']]
        body = answer['body'].encode()
        if answer['status'] >= 400:
            self._fail(url, answer['status'], headers, body)
        self.content.pop(path)
        self.deleted.append(path)
        return FakeResponse(url, answer['status'], headers_of(headers), body)


def recorded_content(fixture, repository=None):
    """A FakeRegistry's content from a fixture of tests/lab/record_referrers.py: each recorded answer under its path
    (the repository renamed to ``repository`` when given), the registry's 404s as they were."""
    content = {'/v2/': ([], b'{}')}
    for path, answer in fixture['answers'].items():
        if repository:
            path = path.replace('/v2/%s/' % fixture['repository'], '/v2/%s/' % repository, 1)
        body = base64.b64decode(answer['body'])
        headers = [tuple(item) for item in answer['headers']]
        content[path] = (headers, body) if answer['status'] == 200 else (answer['status'], headers, body)
    return content
