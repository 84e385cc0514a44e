# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One stand-in for the core/v1 calls a build makes (_k8s/core.py's CoreApi), shared by the unit tests.

Pods, Secrets and ConfigMaps live in memory. Objects made with generateName get the prefix and a
counter (kiln-build-1, kiln-build-auth-2, ...), as the API server gives them a suffix. Label
selectors of the form key=value are honoured, a missing object answers 404, and every call is
recorded in ``calls`` as (call, name). What the cluster then does with a pod comes from the pods
kubelets really reported (fixtures/recorded, written by tests/lab/record_statuses.py):
``RunScript`` (below) hands them to the Scheduler as watch events, by each pod's first destination (and, for a
build that runs again, by its attempt). Pods lost through no fault of the build, and their nodes, are recorded too,
on the lab of three nodes; the few it cannot make (a node shutdown) are written by hand from the Kubernetes code
that makes them (fixtures/README.md).

Hooks: ``on`` maps a call name to a function run inside that call, after the call has taken effect
(a signal that arrives while the answer is on its way back, an API server that goes away).
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import threading

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ProtocolError

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '_kaniko', 'fixtures')


def recorded(name):
    """The pod of fixtures/recorded/<name>.json, as a kubelet reported it."""
    with open(os.path.join(FIXTURES, 'recorded', name + '.json')) as handle:
        return json.load(handle)['pod']


class Response(object):
    """A raw response: ``data`` (JSON), or a log ``stream`` of lines."""

    def __init__(self, body=None, lines=()):
        self.data = json.dumps(body).encode() if body is not None else b''
        self.lines = list(lines)
        self.released = False

    def stream(self, _size):
        for line in self.lines:
            yield line.encode() + b'\n'

    def release_conn(self):
        self.released = True

    def close(self):
        """As urllib3's HTTPResponse: the follower cuts a response that has no shutdown() with close() (a slow
        machine can reach that path for a plain response, which the fake lacked)."""
        self.released = True


class LogStream(Response):
    """A followed log: ``lines``, then ``end``: 'eof', 'cut' (a broken connection) or 'block' (the container
    still runs: the stream stays open until shutdown()). ``unterminated``: the last line comes without its
    line end (the stream was cut in the middle of it)."""

    def __init__(self, lines, end='eof', unterminated=False):
        super().__init__(lines=lines)
        self.end = end
        self.unterminated = unterminated
        self.unblocked = threading.Event()

    def stream(self, size):
        for number, line in enumerate(self.lines):
            last = number == len(self.lines) - 1
            yield line.encode() + (b'' if last and self.unterminated else b'\n')
        if self.end == 'cut':
            raise ProtocolError('Connection broken: IncompleteRead')
        if self.end == 'block':
            self.unblocked.wait(10)
            raise ProtocolError('Connection closed')

    def shutdown(self):
        self.unblocked.set()


def not_found():
    return ApiException(status=404, reason='Not Found')


def _matches(labels, selector):
    if not selector:
        return True
    return all((labels or {}).get(key) == value for key, _sep, value in
               (term.partition('=') for term in selector.split(',')))


def first_destination(pod):
    """Kaniko's first --destination, whether Kaniko is the pod's container or (before sign and sbom) an init one."""
    for container in pod['spec']['containers'][:1] + (pod['spec'].get('initContainers') or []):
        for arg in container.get('args') or []:
            if arg.startswith('--destination='):
                return arg.split('=', 1)[1]
    return None


class FakeCore(object):
    """core/v1 in memory. ``secrets`` and ``config_maps`` are the objects that exist ({name: object body});
    ``refuse_create`` the first destinations whose pods the API server refuses (403); ``logs`` scripted log
    answers per container (LogStream or an HTTP status, one per read; by default a read answers the line
    '<container> of <pod>'); ``ended_after`` makes a container's status 'terminated' once the pod has been
    read that many times for it (for the log follower); ``events`` the pod events listed."""

    def __init__(self, secrets=None, config_maps=None, on=None, refuse_create=(), logs=None, ended_after=None,
                 events=(), nodes=None):
        self.on = dict(on or {})
        self.existing = dict(secrets or {})
        self.config_maps = dict(config_maps or {})
        self.refuse_create = set(refuse_create)
        self.logs = dict((container, list(answers)) for container, answers in (logs or {}).items())
        self.ended_after = None if ended_after is None else dict(ended_after)
        self.event_items = list(events)
        # The nodes listed (dicts), or an HTTP status the list answers with; one linux/amd64 node by default.
        self.nodes = nodes if nodes is not None else [
            {'metadata': {'name': 'node-1', 'labels': {'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64'}},
             'spec': {}}]
        self.pods = {}
        self.secrets = {}
        # The grace period of each deletion, by name (None: the object's own).
        self.grace = {}
        self.calls = []
        self.counter = 0
        self.created_labels = []
        self.watch_script = []
        self.list_script = []

    def _hook(self, call, name=None):
        self.calls.append((call, name))
        if call in self.on:
            self.on[call]()

    def called(self, call):
        return [name for made, name in self.calls if made == call]

    def _name(self, body):
        self.counter += 1
        return body['metadata']['generateName'] + str(self.counter)

    # Namespaces, Secrets, ConfigMaps.

    def read_namespace(self, name, **kwargs):
        self._hook('read_namespace', name)

    def read_namespaced_secret(self, name, namespace, **kwargs):
        self._hook('read_secret', name)
        if name not in self.existing:
            raise not_found()
        return Response(self.existing[name])

    def read_namespaced_config_map(self, name, namespace, **kwargs):
        self._hook('read_config_map', name)
        if name not in self.config_maps:
            raise not_found()
        return Response(self.config_maps[name])

    def create_namespaced_secret(self, namespace, body, **kwargs):
        name = self._name(body)
        self.secrets[(namespace, name)] = copy.deepcopy(body)
        self._hook('create_secret', name)
        return Response({'metadata': {'name': name}})

    def patch_namespaced_secret(self, name, namespace, body, **kwargs):
        self.secrets[(namespace, name)]['metadata'].update(body['metadata'])
        self._hook('patch_secret', name)

    def list_namespaced_secret(self, namespace, label_selector=None, **kwargs):
        self._hook('list_secrets', label_selector)
        return Response({'items': [secret for (where, _name), secret in sorted(self.secrets.items())
                                   if where == namespace and _matches(secret['metadata'].get('labels'),
                                                                      label_selector)]})

    def delete_namespaced_secret(self, name, namespace, **kwargs):
        self.grace[name] = kwargs.get('grace_period_seconds')
        self.secrets.pop((namespace, name), None)
        self._hook('delete_secret', name)

    # Pods.

    def create_namespaced_pod(self, namespace, body, **kwargs):
        if first_destination(body) in self.refuse_create:
            self.calls.append(('create_pod', None))
            raise ApiException(status=403, reason='Forbidden')
        created = copy.deepcopy(body)
        name = self._name(body)
        created['metadata'].update(name=name, namespace=namespace, uid='uid-' + name, resourceVersion='1')
        created['status'] = {'phase': 'Pending'}
        self.pods[(namespace, name)] = created
        self.created_labels.append(created['metadata']['labels'])
        self._hook('create_pod', name)  # the pod exists; the answer is on its way back
        return Response(created)

    def read_namespaced_pod(self, name, namespace, **kwargs):
        self.calls.append(('read_pod', name))
        if self.ended_after is not None:
            return Response({'status': self._container_states()})
        if (namespace, name) not in self.pods:
            raise not_found()
        return Response(self.pods[(namespace, name)])

    def _container_states(self):
        statuses = []
        for container in self.logs:
            left = self.ended_after.get(container, 0)
            self.ended_after[container] = left - 1
            state = {'terminated': {'exitCode': 0}} if left <= 0 else {'running': {}}
            statuses.append({'name': container, 'state': state})
        return {'initContainerStatuses': statuses[:1], 'containerStatuses': statuses[1:]}

    def list_namespaced_pod(self, namespace, label_selector=None, **kwargs):
        self.calls.append(('list_pods', label_selector))
        if self.list_script:
            return Response(self.list_script.pop(0))
        return Response({'metadata': {'resourceVersion': str(self.counter)},
                         'items': [pod for (where, _name), pod in sorted(self.pods.items())
                                   if where == namespace and _matches(pod['metadata'].get('labels'), label_selector)]})

    def delete_namespaced_pod(self, name, namespace, **kwargs):
        self.grace[name] = kwargs.get('grace_period_seconds')
        self.pods.pop((namespace, name), None)
        self._hook('delete_pod', name)

    def list_node(self, **kwargs):
        self._hook('list_node')
        if isinstance(self.nodes, int):
            raise ApiException(status=self.nodes, reason='Forbidden')
        return Response({'items': self.nodes})

    def read_node(self, name, **kwargs):
        """A node of ``nodes`` by name (404 when there is none), or the HTTP status the nodes answer with."""
        self._hook('read_node', name)
        if isinstance(self.nodes, int):
            raise ApiException(status=self.nodes, reason='Forbidden')
        for node in self.nodes:
            if node['metadata']['name'] == name:
                return Response(node)
        raise not_found()

    def list_namespaced_event(self, namespace, **kwargs):
        return Response({'items': self.event_items})

    def read_namespaced_pod_log(self, name, namespace, container=None, follow=False, **kwargs):
        self.calls.append(('log', (container, follow)))
        if container not in self.logs:
            return Response(lines=['{0} of {1}'.format(container, name)])
        answer = self.logs[container].pop(0)
        if isinstance(answer, int):
            raise ApiException(status=answer, reason='Bad Request')
        return answer

    def watch_namespaced_pods(self, namespace, **kwargs):
        """Yields the next of ``watch_script``: a list of (kind, object), or an exception to raise."""
        self.calls.append(('watch', kwargs.get('resource_version')))
        step = self.watch_script.pop(0)
        if isinstance(step, Exception):
            raise step
        for kind, obj in step:
            yield kind, obj


class Attempts(tuple):
    """In a plan of RunScript: what each pod of a build goes through, its first pod's, then the next one's (option
    retries), ...: Attempts(first, second, ...)."""

    def __new__(cls, *plans):
        return super(Attempts, cls).__new__(cls, plans)


def attempt(pod):
    """Which pod of its build ``pod`` is: 1, or N of the generateName '<name>-aN-'."""
    match = re.search(r'-a(\d+)-$', pod['metadata'].get('generateName') or '')
    return int(match.group(1)) if match else 1


class RunScript(object):
    """The event source of a run (as _k8s/watch.py's PodWatch): each pod created in ``core`` ends as ``plan``
    says, by its first destination: a recorded fixture name (default 'succeeded'), a pod (a dict), 'signal'
    (SIGTERM arrives instead), or a list of those it goes through; Attempts of those for the pods of a build that
    runs again. Made by ``factory``, as BuildRun's watch_factory. With a ``clock`` (a fake one, as the BuildRun's),
    a wait with no step left lets its time pass instead, up to ``idle`` times in a row."""

    def __init__(self, core, plan=None, clock=None, idle=20):
        self.core = core
        self.plan = dict(plan or {})
        self.clock = clock
        self.idle = idle
        self.idled = 0
        self.steps = {}
        self.namespaces = None
        self.selector = None
        self.stopped = False

    def factory(self, namespaces, run_id):
        self.namespaces, self.selector = namespaces, 'kiln.kaniko/run=' + run_id
        return self

    def start(self):
        pass

    def stop(self):
        self.stopped = True

    def next(self, seconds):
        for (namespace, name), created in list(self.core.pods.items()):  # in the order they were created
            steps = self.steps.setdefault((namespace, name), self._steps(created))
            if not steps:
                continue
            self.idled = 0
            step = steps.pop(0)
            if step == 'signal':
                os.kill(os.getpid(), signal.SIGTERM)
                continue
            pod = copy.deepcopy(step if isinstance(step, dict) else recorded(step))
            pod.setdefault('metadata', {}).update(name=name, namespace=namespace)
            created['status'] = copy.deepcopy(pod['status'])  # what the API server now holds
            return (namespace, 'MODIFIED', pod)
        if self.clock is not None and self.idled < self.idle:
            self.idled += 1
            self.clock.now += seconds
            return None
        raise AssertionError('the scheduler waits for an event that cannot come')

    def _steps(self, created):
        step = self.plan.get(first_destination(created), 'succeeded')
        if isinstance(step, Attempts):
            step = step[attempt(created) - 1]
        return list(step) if isinstance(step, (list, tuple)) else [step]
