# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PodWatch against the shared core/v1 fake: list, watch from the list's version, resume from the last version
seen (a bookmark moves it on too), list again after 410 Gone and say which pods are gone, hand a failure over."""

from __future__ import annotations

import copy

from kubernetes.client.exceptions import ApiException

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s import watch as pod_watch
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore, recorded


def pod(name, fixture, version):
    item = copy.deepcopy(recorded(fixture)) if fixture != 'pending' else {'metadata': {}, 'status': {'phase': 'Pending'}}
    item['metadata'].update(name=name, namespace='builds', resourceVersion=str(version))
    return item


def drain(core, namespaces=('builds',), selector='kiln.kaniko/run=abc'):
    """Start a PodWatch, let its thread run to its end (the script ends with a failure), return what it saw."""
    watch = pod_watch.PodWatch(core, list(namespaces), selector)
    watch.start()
    for thread in watch.threads:
        thread.join(5)
    seen = []
    while True:
        item = watch.next(0)
        if item is None:
            return watch, seen
        namespace, kind, obj = item
        seen.append((namespace, kind, obj if kind in (pod_watch.RELIST, pod_watch.FAILURE) else
                     obj['metadata']['name']))


def versions(core):
    return [version for call, version in core.calls if call == 'watch']


def test_lists_watches_and_lists_again_after_410():
    core = FakeCore()
    core.list_script = [{'metadata': {'resourceVersion': '10'}, 'items': [pod('a', 'pending', 9)]},
                        {'metadata': {'resourceVersion': '20'}, 'items': []}]
    core.watch_script = [
        [('MODIFIED', pod('a', 'running', 11)), ('BOOKMARK', {'metadata': {'resourceVersion': '12'}})],
        ApiException(status=410, reason='Gone'),
        [('MODIFIED', pod('a', 'succeeded', 30))],
        ApiException(status=403, reason='Forbidden'),
    ]
    watch, seen = drain(core, namespaces=['builds', 'builds'])
    assert len(watch.threads) == 1
    assert versions(core) == ['10', '12', '20', '30']  # a bookmark moves the version on too
    assert [kind for _ns, kind, _obj in seen] == [pod_watch.SYNC, 'MODIFIED', pod_watch.RELIST, 'MODIFIED',
                                                  pod_watch.FAILURE]
    assert seen[2][2] == set()
    assert isinstance(seen[-1][2], ApiException) and seen[-1][2].status == 403
    assert [call for call in core.calls if call[0] == 'list_pods'] == [('list_pods', 'kiln.kaniko/run=abc')] * 2


def test_watch_resumes_from_the_last_resource_version():
    core = FakeCore()
    core.list_script = [{'metadata': {'resourceVersion': '10'}, 'items': [pod('a', 'running', 10)]}]
    core.watch_script = [
        [('MODIFIED', pod('a', 'running', 15))],
        [('BOOKMARK', {'metadata': {'resourceVersion': '20'}})],
        [('MODIFIED', pod('a', 'succeeded', 21))],
        RuntimeError('the end of the script'),
    ]
    _watch, seen = drain(core)
    assert versions(core) == ['10', '15', '20', '21']
    assert [kind for _ns, kind, _obj in seen] == [pod_watch.SYNC, 'MODIFIED', 'MODIFIED', pod_watch.FAILURE]
    assert len([call for call in core.calls if call[0] == 'list_pods']) == 1


def test_a_broken_stream_is_watched_again_from_the_last_version():
    from urllib3.exceptions import ProtocolError
    core = FakeCore()
    core.list_script = [{'metadata': {'resourceVersion': '10'}, 'items': []}]
    core.watch_script = [ProtocolError('Connection broken'), [('ADDED', pod('a', 'pending', 11))],
                         ApiException(status=500, reason='Internal Server Error')]
    _watch, seen = drain(core)
    assert versions(core) == ['10', '10', '11']
    assert [kind for _ns, kind, _obj in seen] == ['ADDED', pod_watch.FAILURE]


def test_the_pods_of_the_fake_are_listed_by_label():
    core = FakeCore()
    core.create_namespaced_pod('builds', {'metadata': {'generateName': 'kiln-build-', 'labels': {'kiln.kaniko/run': 'abc'}},
                                          'spec': {'containers': [{'name': 'kaniko'}]}})
    core.create_namespaced_pod('builds', {'metadata': {'generateName': 'kiln-build-', 'labels': {'kiln.kaniko/run': 'xyz'}},
                                          'spec': {'containers': [{'name': 'kaniko'}]}})
    core.watch_script = [ApiException(status=403, reason='Forbidden')]
    _watch, seen = drain(core)
    assert seen[0] == ('builds', pod_watch.SYNC, 'kiln-build-1')
    assert [kind for _ns, kind, _obj in seen] == [pod_watch.SYNC, pod_watch.FAILURE]
