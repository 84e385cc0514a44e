# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A client of the OCI distribution API over ansible.module_utils.urls: it reads, writes manifests and blobs,
deletes tags, and asks the OCI 1.1 referrers API (``referrers``: None where the registry has none, and the
caller reads the referrers tag schema instead, as _registry/referrers.py does).

Authentication follows the registry's challenge: Basic with the credentials given, or Bearer with a
token fetched from the challenge's realm for the challenge's service and scope (anonymously when
no credentials are given). Authorization headers are never sent on to redirect targets (blob
downloads are often redirected to object storage that refuses them).
"""

from __future__ import annotations

import base64
import http.client
import re
import socket
from typing import Any, Callable, Mapping, NamedTuple
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urljoin

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import SSLValidationError, open_url

from ansible_collections.kiln.kaniko.plugins.module_utils._registry.challenge import (
    Challenge,
    parse_challenges,
    pick_challenge,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import (
    AuthenticationError,
    RegistryError,
    RegistryUnreachable,
    TagNotDeletable,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import (
    ACCEPT,
    OCI_INDEX,
    load_json,
    sha256_digest,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import TAG_RE

MAX_BODY = 16 * 1024 * 1024
MAX_TAG_PAGES = 1000
USER_AGENT = 'kiln.kaniko-image_info'


class Response(NamedTuple):
    status: int
    headers: Any  # as urllib gives them (an email.message.Message), or a mapping, or None
    body: bytes
    url: str

    def header(self, name: str) -> str | None:
        if self.headers is None:
            return None
        return self.headers.get(name)

    def header_values(self, name: str) -> list[str]:
        if self.headers is None:
            return []
        get_all = getattr(self.headers, 'get_all', None)
        if get_all is not None:
            return get_all(name) or []
        value = self.headers.get(name)
        return [value] if value else []


def _error_list(body: bytes) -> list[dict[str, Any]]:
    try:
        doc = load_json(body, 'error')
    except RegistryError:
        return []
    errors = doc.get('errors')
    return [error for error in errors if isinstance(error, dict)] if isinstance(errors, list) else []


def registry_errors(body: bytes) -> str:
    """The ``errors`` of a registry error document as ``CODE: message`` text, or ''."""
    return '; '.join('%s: %s' % (e.get('code'), e.get('message')) for e in _error_list(body))


def error_codes(body: bytes) -> list[str]:
    """The codes of a registry error document (``UNSUPPORTED``, ``DIGEST_INVALID``, ...)."""
    return [str(error.get('code')) for error in _error_list(body)]


_LINK = re.compile(r'<([^>]*)>\s*;(?:[^,]*;)?\s*rel\s*=\s*"?next"?', re.IGNORECASE)


def next_link(link_header: str | None, base_url: str) -> str | None:
    """The absolute URL of a ``Link: <...>; rel="next"`` header, or None."""
    match = _LINK.search(link_header or '')
    return urljoin(base_url, match.group(1).strip()) if match else None


class RegistryClient:

    def __init__(self, api_host: str, insecure: bool = False, validate_certs: bool = True, ca_path: str | None = None,
                 username: str | None = None, password: str | None = None, timeout: float = 30,
                 opener: Callable[..., Any] | None = None) -> None:
        self.api_host = api_host
        self.address = '%s://%s' % ('http' if insecure else 'https', api_host)
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self._opener = opener or open_url
        self._basic: str | None = None
        if username is not None or password is not None:
            pair = '%s:%s' % (username or '', password or '')
            self._basic = 'Basic ' + base64.b64encode(pair.encode('utf-8')).decode('ascii')
        self._use_basic = False
        self._tokens: dict[str | None, str] = {}

    # -------------------------------------------------------------- transport

    def _open(self, method: str, url: str, headers: Mapping[str, str], address: str | None = None,
              data: bytes | None = None) -> Response:
        address = address or self.address
        try:
            response = self._opener(
                url, method=method, headers=headers, data=data, validate_certs=self.validate_certs,
                ca_path=self.ca_path,
                timeout=self.timeout, follow_redirects='safe', unredirected_headers=['Authorization'],
                use_netrc=False, http_agent=USER_AGENT, force=True,
            )
        except HTTPError as exc:
            try:
                body = exc.read(MAX_BODY) if exc.fp is not None else b''
            except (OSError, http.client.HTTPException):
                body = b''
            return Response(exc.code, exc.headers, body, url)
        except (SSLValidationError, UrlsConnectionError) as exc:
            raise RegistryUnreachable(address, str(exc)) from None
        except URLError as exc:
            raise RegistryUnreachable(address, str(getattr(exc, 'reason', exc))) from None
        except (socket.timeout, OSError, http.client.HTTPException) as exc:
            raise RegistryUnreachable(address, str(exc) or type(exc).__name__) from None
        try:
            body = response.read(MAX_BODY + 1)
        except (socket.timeout, OSError, http.client.HTTPException) as exc:
            raise RegistryUnreachable(address, 'reading the answer to %s: %s' % (url, exc)) from None
        if len(body) > MAX_BODY:
            raise RegistryError('%s: the answer is larger than %d bytes' % (url, MAX_BODY))
        status = getattr(response, 'status', None) or response.getcode()
        return Response(status, response.headers, body, url)

    # -------------------------------------------------------------- authentication

    def _authorization(self, scope: str | None) -> str | None:
        if scope in self._tokens:
            return 'Bearer ' + self._tokens[scope]
        if self._use_basic:
            return self._basic
        return None

    def _fetch_token(self, challenge: Challenge, scope: str | None) -> str:
        realm = challenge.get('realm')
        if not realm:
            raise AuthenticationError('%s asks for a Bearer token but names no realm to get it from' % self.address)
        query = []
        if challenge.get('service'):
            query.append(('service', challenge.get('service')))
        for item in (challenge.get('scope') or scope or '').split():
            query.append(('scope', item))
        url = realm + (('&' if '?' in realm else '?') + urlencode(query) if query else '')
        headers = {'Accept': 'application/json'}
        if self._basic:
            headers['Authorization'] = self._basic
        response = self._open('GET', url, headers, address=realm)
        if response.status in (401, 403):
            raise AuthenticationError('the token service %s refused %s (HTTP %d)%s' % (
                realm, 'the credentials' if self._basic else 'an anonymous token',
                response.status, self._detail(response)))
        if response.status != 200:
            raise RegistryError('the token service %s answered HTTP %d%s'
                                % (realm, response.status, self._detail(response)))
        doc = load_json(response.body, 'token answer')
        token = doc.get('token') or doc.get('access_token')
        if not token:
            raise AuthenticationError('the token service %s answered without a token' % realm)
        return token

    def _authenticate(self, response: Response, scope: str | None, tried: set[str]) -> None:
        """Prepare credentials for the challenge of a 401 answer; raise when that cannot help."""
        challenges = parse_challenges(', '.join(response.header_values('WWW-Authenticate')))
        challenge = pick_challenge(challenges)
        what = self._what(scope)
        if challenge is None:
            raise AuthenticationError('%s refused access to %s (HTTP 401) without saying how to authenticate'
                                      % (self.address, what))
        if challenge.scheme in tried:
            reason = challenge.get('error')
            raise AuthenticationError('%s refused %s access to %s (HTTP 401%s)%s' % (
                self.address, 'the credentials for' if self._basic else 'anonymous', what,
                ', ' + reason if reason else '', self._detail(response)))
        tried.add(challenge.scheme)
        if challenge.scheme == 'basic':
            if not self._basic:
                raise AuthenticationError('%s needs credentials for %s (Basic realm %r): set username and password'
                                          % (self.address, what, challenge.get('realm', '')))
            self._use_basic = True
        else:
            self._tokens[scope] = self._fetch_token(challenge, scope)

    @staticmethod
    def _what(scope: str | None) -> str:
        parts = (scope or '').split(':')
        return 'repository %s' % parts[1] if len(parts) >= 3 and parts[0] == 'repository' else 'the registry'

    @staticmethod
    def _detail(response: Response) -> str:
        errors = registry_errors(response.body)
        return ': ' + errors if errors else ''

    def request(self, method: str, path_or_url: str, scope: str | None = None, accept: str | None = None,
                data: bytes | None = None, content_type: str | None = None) -> Response:
        url = path_or_url if '://' in path_or_url else self.address + path_or_url
        tried: set[str] = set()
        while True:
            headers = {}
            if accept:
                headers['Accept'] = accept
            if content_type:
                headers['Content-Type'] = content_type
            authorization = self._authorization(scope)
            if authorization:
                headers['Authorization'] = authorization
            response = self._open(method, url, headers, data=data)
            if response.status != 401:
                return response
            self._authenticate(response, scope, tried)

    def _unexpected(self, response: Response, doing: str) -> RegistryError:
        return RegistryError('%s answered HTTP %d when %s%s' % (self.address, response.status, doing,
                                                                self._detail(response)),
                             {'status': response.status})

    # -------------------------------------------------------------- API

    def ping(self) -> None:
        """Check that the address serves the registry API (GET /v2/); 200 and 401 both say it does."""
        response = self._open('GET', self.address + '/v2/', {})
        if response.status == 401:
            challenge = pick_challenge(parse_challenges(', '.join(response.header_values('WWW-Authenticate'))))
            if challenge is not None and challenge.scheme == 'basic' and self._basic:
                self._use_basic = True
            return
        if response.status != 200:
            raise RegistryError('%s does not look like a registry: GET /v2/ answered HTTP %d'
                                % (self.address, response.status), {'status': response.status})

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str | None, str] | None:
        """(body, content type, digest) of a manifest, or None when the registry has no such manifest."""
        response = self.request('GET', '/v2/%s/manifests/%s' % (repository, quote(reference, safe=':')),
                                scope='repository:%s:pull' % repository, accept=', '.join(ACCEPT))
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._unexpected(response, 'reading the manifest %s of %s' % (reference, repository))
        computed = sha256_digest(response.body)
        header = response.header('Docker-Content-Digest')
        digest = header if header and not header.startswith('sha256:') else computed
        if reference.startswith('sha256:') and computed != reference:
            raise RegistryError('%s sent a manifest for %s@%s whose digest is %s'
                                % (self.address, repository, reference, computed))
        return response.body, response.header('Content-Type'), digest

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        """Store the manifest ``body`` (bytes) of ``media_type`` under ``reference`` (a tag or its digest);
        return its digest."""
        return self.store_manifest(repository, reference, body, media_type)[0]

    def store_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> tuple[str, str | None]:
        """put_manifest, and the ``OCI-Subject`` header of the answer: the digest of the manifest's subject when the
        registry has indexed it for its referrers API, else None (OCI distribution spec 1.1, pushing manifests
        with subject)."""
        response = self.request('PUT', '/v2/%s/manifests/%s' % (repository, quote(reference, safe=':')),
                                scope='repository:%s:pull,push' % repository, data=body, content_type=media_type)
        if response.status not in (200, 201):
            raise self._unexpected(response, 'storing the manifest %s of %s' % (reference, repository))
        digest = sha256_digest(body)
        header = response.header('Docker-Content-Digest')
        if header and header != digest:
            raise RegistryError('%s stored the manifest %s of %s under the digest %s, not %s'
                                % (self.address, reference, repository, header, digest))
        return digest, response.header('OCI-Subject')

    def has_blob(self, repository: str, digest: str) -> bool:
        """Whether the repository holds the blob ``digest`` (HEAD)."""
        response = self.request('HEAD', '/v2/%s/blobs/%s' % (repository, digest),
                                scope='repository:%s:pull' % repository)
        if response.status == 404:
            return False
        if response.status != 200:
            raise self._unexpected(response, 'looking for the blob %s of %s' % (digest, repository))
        return True

    def put_blob(self, repository: str, data: bytes) -> str:
        """Store ``data`` (bytes) as a blob of the repository unless it holds it already: a POST that opens an
        upload, then one PUT of the whole content with its digest (the monolithic upload); return its digest."""
        digest = sha256_digest(data)
        if self.has_blob(repository, digest):
            return digest
        scope = 'repository:%s:pull,push' % repository
        opened = self.request('POST', '/v2/%s/blobs/uploads/' % repository, scope=scope, data=b'')
        location = opened.header('Location')
        if opened.status != 202 or not location:
            raise self._unexpected(opened, 'opening an upload to %s' % repository)
        url = urljoin(self.address + '/', location)
        url += ('&' if '?' in url else '?') + urlencode({'digest': digest})
        response = self.request('PUT', url, scope=scope, data=data, content_type='application/octet-stream')
        if response.status != 201:
            raise self._unexpected(response, 'uploading the blob %s to %s' % (digest, repository))
        return digest

    def referrers(self, repository: str, digest: str) -> dict[str, Any] | None:
        """The image index the referrers API gives for the manifest ``digest``, or None when the registry has no
        referrers API (it answers 404, as distribution 2.8 and 3.1 do, or 405/400 for the unknown route)."""
        response = self.request('GET', '/v2/%s/referrers/%s' % (repository, digest),
                                scope='repository:%s:pull' % repository, accept=OCI_INDEX)
        if response.status in (400, 404, 405):
            return None
        if response.status != 200:
            raise self._unexpected(response, 'asking for the referrers of %s in %s' % (digest, repository))
        return load_json(response.body, 'referrers index')

    def get_blob(self, repository: str, digest: str) -> bytes:
        """The content of a blob, checked against its sha256 digest."""
        response = self.request('GET', '/v2/%s/blobs/%s' % (repository, digest),
                                scope='repository:%s:pull' % repository)
        if response.status != 200:
            raise self._unexpected(response, 'reading the blob %s of %s' % (digest, repository))
        if digest.startswith('sha256:') and sha256_digest(response.body) != digest:
            raise RegistryError('%s sent content for the blob %s of %s that does not match its digest'
                                % (self.address, digest, repository))
        return response.body

    def list_tags(self, repository: str, page_size: int = 1000) -> list[str] | None:
        """The repository's tags in the registry's order, or None when the repository does not exist."""
        url = '%s/v2/%s/tags/list?%s' % (self.address, repository, urlencode({'n': page_size}))
        tags: list[str] = []
        for _page in range(MAX_TAG_PAGES):
            response = self.request('GET', url, scope='repository:%s:pull' % repository)
            if response.status == 404:
                return None if not tags else tags
            if response.status != 200:
                raise self._unexpected(response, 'listing the tags of %s' % repository)
            doc = load_json(response.body, 'tag list')
            tags.extend(tag for tag in doc.get('tags') or [] if isinstance(tag, str))
            next_url = next_link(response.header('Link'), url)
            if not next_url:
                return tags
            url = next_url
        raise RegistryError('%s: the tag list of %s has more than %d pages' % (self.address, repository, MAX_TAG_PAGES))

    def delete_tag(self, repository: str, tag: str) -> bool:
        """Delete the tag ``tag`` of ``repository`` (the manifest stays, and what refers to it by digest keeps it);
        True when it was deleted, False when the repository has no such tag. Never a digest: DELETE of a digest
        deletes the manifest itself, and an index that lists it would then point at nothing.

        Raises TagNotDeletable when the registry keeps the tag (the reason from its answer), RegistryError otherwise.
        """
        if not TAG_RE.fullmatch(tag):
            raise RegistryError('%r is not a tag: only tags are deleted, never a manifest by digest' % tag)
        response = self.request('DELETE', '/v2/%s/manifests/%s' % (repository, tag),
                                scope='repository:%s:delete' % repository)
        if response.status in (200, 202):
            return True
        codes = error_codes(response.body)
        if response.status == 404 and (not codes or codes[0] in ('MANIFEST_UNKNOWN', 'NAME_UNKNOWN')):
            return False
        reason = tag_delete_refusal(response.status, codes)
        if reason is None:
            raise self._unexpected(response, 'deleting the tag %s of %s' % (tag, repository))
        raise TagNotDeletable('%s keeps the tag %s of %s: %s (HTTP %d%s)' % (
            self.address, tag, repository, reason, response.status, self._detail(response)),
            {'status': response.status})


def tag_delete_refusal(status: int, codes: list[str]) -> str | None:
    """Why a registry kept a tag it was asked to delete, from the status and error codes of its answer (as
    distribution 2.8 and 3 answer, recorded by tests/lab/record_registry.py), or None for an answer of another kind."""
    if status == 400 and 'DIGEST_INVALID' in codes:
        return 'it deletes manifests by digest only, not tags (distribution before 3.0)'
    if status == 405 or 'UNSUPPORTED' in codes:
        return 'it accepts no deletes (storage.delete.enabled is false, or it is read-only or a pull-through cache)'
    if status == 403 or 'DENIED' in codes:
        return 'the credentials may push but not delete'
    return None
