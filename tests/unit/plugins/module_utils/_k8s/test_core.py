# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CoreApi: the requests it sends for CoreV1Api-style calls, and how it reads watches and errors."""

from __future__ import annotations

import json

import pytest

from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s import core
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import iter_lines


class Answer(object):
    def __init__(self, status=200, body=b'{}', chunks=None):
        self.status = status
        self.reason = {200: 'OK', 201: 'Created', 404: 'Not Found', 409: 'Conflict'}.get(status, 'Error')
        self.headers = {'Content-Type': 'application/json'}
        self.data = body
        self.chunks = chunks or []
        self.released = self.closed = False

    def stream(self, _size):
        return iter(self.chunks)

    def release_conn(self):
        self.released = True

    def close(self):
        self.closed = True


class Pool(object):
    def __init__(self, answers):
        self.answers = list(answers)
        self.sent = []

    def request(self, method, url, headers=None, body=None, **kwargs):
        self.sent.append(dict(method=method, url=url, headers=headers, body=body, **kwargs))
        return self.answers.pop(0)


def bearer(token):
    """A Configuration's api_key with ``token``, under the key of every client release: kubernetes 24's kubeconfig
    loader writes and reads 'authorization', later ones 'BearerToken' (client.py sets both, as here)."""
    return {'BearerToken': token, 'authorization': token}


def core_api(answers, token='Bearer t0ken'):
    configuration = k8s_client.Configuration()
    configuration.host = 'https://api.example:6443'
    if token:
        configuration.api_key = bearer(token)
    client = k8s_client.ApiClient(configuration)
    client.set_default_header('Impersonate-User', 'builder')
    api = core.CoreApi(client)
    pool = Pool(answers)
    api._pool = pool
    return api, pool


@pytest.mark.parametrize('params, query', [
    ({}, ''),
    ({'field_selector': 'metadata.name=p', '_preload_content': False, 'container': None}, 'fieldSelector=metadata.name%3Dp'),
    ({'watch': True, 'resource_version': '12', 'timeout_seconds': 30, 'allow_watch_bookmarks': False},
     'allowWatchBookmarks=false&resourceVersion=12&timeoutSeconds=30&watch=true'),
    ({'grace_period_seconds': 0, 'propagation_policy': 'Background'}, 'gracePeriodSeconds=0&propagationPolicy=Background'),
])
def test_query_string_uses_the_api_names(params, query):
    assert core.query_string(params) == query


def test_create_sends_json_with_the_clients_headers_and_token():
    api, pool = core_api([Answer(201, b'{"metadata": {"name": "kiln-build-abcde"}}')])
    response = api.create_namespaced_pod('builds', {'kind': 'Pod'}, _preload_content=False, _request_timeout=60)
    assert json.loads(response.data)['metadata']['name'] == 'kiln-build-abcde'
    sent = pool.sent[0]
    assert (sent['method'], sent['url']) == ('POST', 'https://api.example:6443/api/v1/namespaces/builds/pods')
    assert json.loads(sent['body']) == {'kind': 'Pod'}
    assert sent['headers']['authorization'] == 'Bearer t0ken'
    assert sent['headers']['Impersonate-User'] == 'builder'
    assert sent['headers']['Content-Type'] == 'application/json'
    assert sent['timeout'].total == 60 and sent['preload_content'] is False


def test_the_token_hook_runs_before_each_request():
    api, pool = core_api([Answer(), Answer()], token=None)
    tokens = iter(['Bearer one', 'Bearer two'])

    def refresh(configuration):
        configuration.api_key = bearer(next(tokens))
    api.configuration.refresh_api_key_hook = refresh
    api.configuration.api_key = bearer('Bearer stale')
    api.read_namespace('builds')
    api.read_namespaced_secret('s', 'builds')
    assert [sent['headers']['authorization'] for sent in pool.sent] == ['Bearer one', 'Bearer two']


def test_patch_takes_its_content_type_and_names_are_quoted():
    api, pool = core_api([Answer()])
    api.patch_namespaced_secret('a b', 'builds', {'metadata': {}}, _content_type='application/merge-patch+json')
    assert pool.sent[0]['url'].endswith('/namespaces/builds/secrets/a%20b')
    assert pool.sent[0]['headers']['Content-Type'] == 'application/merge-patch+json'


def test_a_node_is_read_by_its_name():
    api, pool = core_api([Answer(200, b'{"metadata": {"name": "worker 2"}}')])
    assert json.loads(api.read_node('worker 2').data)['metadata']['name'] == 'worker 2'
    assert (pool.sent[0]['method'], pool.sent[0]['url']) == ('GET', 'https://api.example:6443/api/v1/nodes/worker%202')


def test_an_error_answer_is_an_api_exception_with_the_servers_message():
    answer = Answer(404, b'{"kind": "Status", "message": "pods \\"x\\" not found", "code": 404}')
    api, _pool = core_api([answer])
    with pytest.raises(ApiException) as caught:
        api.read_namespaced_pod('x', 'builds')
    assert caught.value.status == 404 and caught.value.reason == 'Not Found'
    assert json.loads(caught.value.body)['message'] == 'pods "x" not found'
    assert answer.released


def test_a_log_is_returned_unread_for_streaming():
    answer = Answer(chunks=[b'one\n', b'two\n'])
    api, pool = core_api([answer])
    response = api.read_namespaced_pod_log('p', 'builds', container='kaniko', _preload_content=False)
    assert response is answer and not answer.released
    assert pool.sent[0]['url'].endswith('/namespaces/builds/pods/p/log?container=kaniko')


def test_watch_reads_events_across_chunks_and_drops_the_connection():
    pod = {'metadata': {'name': 'p', 'resourceVersion': '13'}}
    stream = (json.dumps({'type': 'MODIFIED', 'object': pod}) + '\n' +
              json.dumps({'type': 'BOOKMARK', 'object': {'metadata': {'resourceVersion': '14'}}}) + '\n').encode()
    answer = Answer(chunks=[stream[:7], stream[7:50], stream[50:]])
    api, pool = core_api([answer])
    events = list(api.watch_namespaced_pods('builds', field_selector='metadata.name=p', resource_version='12',
                                            timeout_seconds=30, request_timeout=45))
    assert events == [('MODIFIED', pod), ('BOOKMARK', {'metadata': {'resourceVersion': '14'}})]
    assert 'watch=true' in pool.sent[0]['url'] and 'resourceVersion=12' in pool.sent[0]['url']
    assert answer.closed and answer.released


def test_an_expired_watch_raises_410():
    gone = {'type': 'ERROR', 'object': {'kind': 'Status', 'code': 410, 'reason': 'Expired',
                                        'message': 'too old resource version: 12 (40)'}}
    api, _pool = core_api([Answer(chunks=[json.dumps(gone).encode() + b'\n'])])
    with pytest.raises(ApiException) as caught:
        list(api.watch_namespaced_pods('builds', resource_version='12'))
    assert caught.value.status == 410 and 'too old' in caught.value.body


def test_other_calls_fall_back_to_the_full_client():
    api, _pool = core_api([])
    assert callable(api.connect_get_namespaced_pod_exec)


def test_lines_across_chunks():
    chunks = [b'first li', b'ne\nsecond\r\n', b'', b'\nthird', b' and last']
    assert list(iter_lines(chunks)) == ['first line', 'second', '', 'third and last']


def test_no_trailing_empty_line():
    assert list(iter_lines([b'a\nb\n'])) == ['a', 'b']
    assert list(iter_lines([])) == []


def test_a_stream_that_may_be_cut_yields_whole_lines_only():
    assert list(iter_lines([b'a\nhalf a li'], unterminated=False)) == ['a']
    assert list(iter_lines([b'a\nb\n'], unterminated=False)) == ['a', 'b']


def test_invalid_utf8_is_replaced():
    assert list(iter_lines([b'caf\xc3', b'\xa9 \xff\n'])) == ['caf\u00e9 \ufffd']


def test_long_lines_are_cut_so_memory_stays_bounded():
    lines = list(iter_lines([b'x' * 10, b'x' * 10, b'y\n'], max_line=8))
    assert lines == ['x' * 8, 'x' * 8, 'xxxxy']
