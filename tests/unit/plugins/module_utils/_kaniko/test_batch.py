# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A list of builds against a stand-in CoreV1Api and event source: order of results, failures named,
skips without pods, everything checked before the first pod, cleanup of the whole run."""

from __future__ import annotations

import copy
import json
import os
import signal

import pytest

from kubernetes.client.exceptions import ApiException

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import batch
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import build_key as bk
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import pod as render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.git_remote import Unresolved
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture, make_spec

COMMIT = 'a' * 40


class Response(object):
    def __init__(self, data=b'', lines=()):
        self.data = data
        self._lines = lines

    def stream(self, _chunk):
        for line in self._lines:
            yield line.encode() + b'\n'

    def release_conn(self):
        pass


def named(items):
    return Response(json.dumps({'items': [{'metadata': {'name': name}} for name in items]}).encode())


class Core(object):
    """Pods and Secrets in memory; every call is recorded."""

    def __init__(self, secrets=None, refuse_create=()):
        self.calls = []
        self.pods = {}
        self.secrets = {}
        self.existing_secrets = secrets or {}
        self.refuse_create = refuse_create
        self.counter = 0
        self.labels = {}

    def read_namespace(self, name, **kwargs):
        self.calls.append(('read_namespace', name))

    def read_namespaced_secret(self, name, namespace, **kwargs):
        self.calls.append(('read_secret', name))
        if name not in self.existing_secrets:
            raise ApiException(status=404, reason='Not Found')
        return Response(json.dumps(self.existing_secrets[name]).encode())

    def create_namespaced_secret(self, namespace, body, **kwargs):
        self.counter += 1
        name = body['metadata']['generateName'] + str(self.counter)
        self.secrets[(namespace, name)] = body
        self.calls.append(('create_secret', name))
        return Response(json.dumps({'metadata': {'name': name}}).encode())

    def patch_namespaced_secret(self, name, namespace, body, **kwargs):
        self.calls.append(('patch_secret', name))

    def create_namespaced_pod(self, namespace, body, **kwargs):
        destination = [arg for arg in body['spec']['containers'][0]['args'] if arg.startswith('--destination=')]
        if destination and destination[0].split('=', 1)[1] in self.refuse_create:
            raise ApiException(status=403, reason='Forbidden')
        self.counter += 1
        name = body['metadata']['generateName'] + str(self.counter)
        created = copy.deepcopy(body)
        created['metadata'].update(name=name, uid='uid-' + name, resourceVersion='1')
        created['status'] = {'phase': 'Pending'}
        self.pods[(namespace, name)] = created
        self.labels[name] = created['metadata']['labels']
        self.calls.append(('create_pod', name))
        return Response(json.dumps(created).encode())

    def read_namespaced_pod_log(self, name, namespace, container=None, **kwargs):
        self.calls.append(('log', name, container))
        return Response(lines=['{0} of {1}'.format(container, name)])

    def list_namespaced_event(self, namespace, **kwargs):
        return Response(b'{"items": []}')

    def read_namespaced_pod(self, name, namespace, **kwargs):
        if (namespace, name) not in self.pods:
            raise ApiException(status=404, reason='Not Found')

    def delete_namespaced_pod(self, name, namespace, **kwargs):
        self.calls.append(('delete_pod', name))
        self.pods.pop((namespace, name), None)

    def delete_namespaced_secret(self, name, namespace, **kwargs):
        self.calls.append(('delete_secret', name))
        self.secrets.pop((namespace, name), None)

    def list_namespaced_pod(self, namespace, label_selector=None, **kwargs):
        self.calls.append(('list_pods', namespace, label_selector))
        return named(name for (ns, name), pod in self.pods.items()
                     if ns == namespace and label_selector == 'kiln.kaniko/run=' + pod['metadata']['labels'].get(
                         'kiln.kaniko/run', ''))

    def list_namespaced_secret(self, namespace, label_selector=None, **kwargs):
        self.calls.append(('list_secrets', namespace, label_selector))
        return named(name for (ns, name) in self.secrets if ns == namespace)


class Watch(object):
    """Ends each created pod as ``plan`` says (by first destination): a fixture name, or 'signal'."""

    def __init__(self, core, plan):
        self.core = core
        self.plan = plan
        self.reported = set()
        self.namespaces = None
        self.selector = None
        self.stopped = False

    def factory(self, namespaces, selector):
        self.namespaces, self.selector = namespaces, selector
        return self

    def start(self):
        pass

    def stop(self):
        self.stopped = True

    def next(self, seconds):
        for (namespace, name), created in sorted(self.core.pods.items()):
            if (namespace, name) in self.reported:
                continue
            self.reported.add((namespace, name))
            destination = [arg for arg in created['spec']['containers'][0]['args']
                           if arg.startswith('--destination=')][0].split('=', 1)[1]
            fixture = self.plan.get(destination, 'succeeded')
            if fixture == 'signal':
                os.kill(os.getpid(), signal.SIGTERM)
                continue
            pod = copy.deepcopy(load_fixture('recorded/{0}.json'.format(fixture))['pod'])
            pod['metadata'].update(name=name, namespace=namespace)
            return (namespace, 'MODIFIED', pod)
        raise AssertionError('the scheduler waits for an event that cannot come')


class Resolver(object):
    def __init__(self, fail=False):
        self.fail = fail

    def resolve(self, namespace, source):
        if self.fail:
            raise Unresolved('git is not installed on the host that runs the module')
        return COMMIT


class Lookup(object):
    """Destinations that already hold their build (by destination)."""

    def __init__(self, built=()):
        self.built = set(built)

    def existing(self, spec, destination, ref):
        repository = ref.name
        if destination in self.built:
            return bk.Existing(destination, repository, {'io.kiln.build-key': bk.build_key(spec, COMMIT)},
                               'sha256:' + 'f' * 64)
        return bk.Existing(destination, repository)


def specs(*destinations, **overrides):
    return [make_spec(destinations=[destination], **overrides) for destination in destinations]


def runner(core, specs, plan=None, built=(), check_mode=False, max_concurrent=2, resolver=None, **kwargs):
    watch = Watch(core, plan or {})
    warnings = []
    run = batch.BatchRunner(core, specs, max_concurrent=max_concurrent, check_mode=check_mode,
                            warn=warnings.append, resolver=resolver or Resolver(), lookup=Lookup(built),
                            watch_factory=watch.factory, **kwargs)
    return run, watch, warnings


def created(core):
    return [call[1] for call in core.calls if call[0] == 'create_pod']


def test_all_build_in_order_and_report_in_order():
    core = Core()
    run, watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1', 'registry:5000/c:1'))
    result = run.run()
    assert result['changed'] is True
    assert [item['failed'] for item in result['results']] == [False] * 3
    assert [item['pod_name'] for item in result['results']] == ['kiln-build-1', 'kiln-build-2', 'kiln-build-3']
    assert all(item['digest'].startswith('sha256:') and item['commit'] for item in result['results'])
    assert all(item['build_key'] and item['skip_check'] == bk.MISSING for item in result['results'])
    assert result['msg'] == '3 builds: 3 built, 0 skipped, 0 failed'
    assert watch.namespaces == ['builds'] and watch.selector == 'kiln.kaniko/run=' + run.run_id
    assert [labels['kiln.kaniko/run'] for labels in core.labels.values()] == [run.run_id] * 3
    assert not core.pods
    assert run.peak == 2 and watch.stopped


def test_one_failure_fails_the_task_names_it_and_reports_the_others():
    core = Core()
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/broken:1', 'registry:5000/c:1'),
                                    plan={'registry:5000/broken:1': 'failed_run_exit7'})
    with pytest.raises(KilnError) as caught:
        run.run()
    error = caught.value
    assert error.message.startswith('1 of 3 builds failed (2 built, 0 skipped, 1 failed): '
                                    "builds[1] (registry:5000/broken:1): Build failed in container 'kaniko' with exit code 7")
    results = error.details['results']
    assert error.details['changed'] is True
    assert [item['failed'] for item in results] == [False, True, False]
    assert results[1]['rc'] == 7 and results[1]['pod_kept'] is True
    assert results[0]['digest'] and results[2]['digest']


def test_unchanged_builds_are_skipped_without_a_pod():
    core = Core()
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1'), built=['registry:5000/a:1'])
    result = run.run()
    assert created(core) == ['kiln-build-1']
    a, b = result['results']
    assert a['changed'] is False and a['skipped_reason'] and a['digest'] == 'sha256:' + 'f' * 64 and 'pod_name' not in a
    assert b['changed'] is True
    assert result['changed'] is True and result['msg'] == '2 builds: 1 built, 1 skipped, 0 failed'


def test_nothing_to_build_is_no_change_and_no_watch():
    core = Core()
    run, watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1'),
                                   built=['registry:5000/a:1', 'registry:5000/b:1'])
    result = run.run()
    assert result['changed'] is False and not created(core) and watch.namespaces is None


def test_check_mode_reports_the_same_decision_and_creates_nothing():
    core = Core()
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1'), built=['registry:5000/a:1'],
                                    check_mode=True)
    result = run.run()
    a, b = result['results']
    assert a['changed'] is False and a['skipped_reason']
    assert b['changed'] is True and b['pod']['kind'] == 'Pod'
    assert '--label=io.kiln.build-key=' + b['build_key'] in b['pod']['spec']['containers'][0]['args']
    assert not created(core) and result['msg'] == '2 builds: 1 would build, 1 would be skipped'


def test_force_builds_what_would_be_skipped():
    core = Core()
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', force=True), built=['registry:5000/a:1'])
    result = run.run()
    assert result['results'][0]['skip_check'] == bk.FORCED and created(core)


def test_every_item_is_checked_before_the_first_pod():
    core = Core()
    items = specs('registry:5000/a:1') + [make_spec(destinations=['registry:5000/b:1'], registry_secret='missing')]
    run, _watch, _warnings = runner(core, items)
    with pytest.raises(KilnError) as caught:
        run.run()
    assert caught.value.message == ("builds[1].registry_secret: Secret 'missing' was not found in namespace 'builds'; "
                                    "create it there, or correct the name")
    assert caught.value.details['option'] == 'builds[1].registry_secret'
    assert not created(core)


def test_without_git_on_the_module_host_it_builds_and_says_why():
    core = Core()
    run, _watch, warnings = runner(core, specs('registry:5000/a:1'), resolver=Resolver(fail=True))
    result = run.run()
    item = result['results'][0]
    assert item['changed'] and item['skip_check'] == bk.UNAVAILABLE and item['build_key'] is None
    assert 'git is not installed' in item['skip_detail']
    assert warnings == ['builds[0]: Building without looking for an existing image: ' + item['skip_detail']]


def test_a_pod_that_cannot_be_created_fails_its_item_only():
    core = Core(refuse_create=['registry:5000/b:1'])
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1', 'registry:5000/c:1'),
                                    max_concurrent=1)
    with pytest.raises(KilnError) as caught:
        run.run()
    results = caught.value.details['results']
    assert [item['failed'] for item in results] == [False, True, False]
    assert 'Could not create the build pod: Forbidden (403)' in results[1]['msg']
    assert "builds[1] (registry:5000/b:1): Could not create the build pod" in caught.value.message


def test_registry_auth_secrets_carry_the_run_label_and_go_away():
    core = Core()
    items = specs('registry:5000/a:1', 'registry:5000/b:1',
                  registry_auth=[dict(server='registry:5000', username='u', password='s3cr3t')])
    run, _watch, _warnings = runner(core, items)
    result = run.run()
    assert not core.secrets
    assert 's3cr3t' not in json.dumps(result)
    created_secrets = [call[1] for call in core.calls if call[0] == 'create_secret']
    assert len(created_secrets) == 2


def test_a_signal_deletes_every_pod_and_secret_of_the_run():
    core = Core()
    items = specs('registry:5000/a:1', 'registry:5000/b:1', 'registry:5000/c:1',
                  registry_auth=[dict(server='registry:5000', username='u', password='p')])
    run, _watch, _warnings = runner(core, items, plan={'registry:5000/b:1': 'signal'}, max_concurrent=3)
    with pytest.raises(KilnError) as caught:
        run.run()
    assert caught.value.message == 'Build interrupted by SIGTERM'
    assert not core.pods and not core.secrets
    results = caught.value.details['results']
    assert results[0]['failed'] is False       # a finished before the signal
    assert results[1]['failed'] and results[1]['msg'] == 'Not finished: Build interrupted by SIGTERM'
    assert ('list_pods', 'builds', 'kiln.kaniko/run=' + run.run_id) in core.calls
    assert signal.getsignal(signal.SIGTERM) is not None


def test_the_run_log_holds_every_build(tmp_path):
    core = Core()
    log_path = tmp_path / 'run.log'
    run, _watch, _warnings = runner(core, specs('registry:5000/a:1', 'registry:5000/b:1'), log_path=str(log_path))
    run.run()
    text = log_path.read_text()
    assert '==> builds[0] clone <==\nclone of kiln-build-1\n' in text
    assert '==> builds[1] kaniko <==\nkaniko of kiln-build-2\n' in text


def test_describe_item():
    spec = make_spec(destinations=None, push=False, context_sub_path='dockercoins/rng')
    assert batch.describe_item(3, spec) == 'builds[3] (https://github.com/jpetazzo/container.training dockercoins/rng)'
    assert render.run_selector('abc') == 'kiln.kaniko/run=abc'


def test_of_several_bad_items_the_first_is_named():
    core = Core()
    items = specs('registry:5000/a:1') + [
        make_spec(destinations=['registry:5000/b:1'], registry_secret='missing-b'),
        make_spec(destinations=['registry:5000/c:1'], registry_secret='missing-c')]
    for _attempt in range(5):
        run, _watch, _warnings = runner(core, items)
        with pytest.raises(KilnError) as caught:
            run.run()
        assert caught.value.message.startswith("builds[1].registry_secret: Secret 'missing-b'")
    assert not created(core)
