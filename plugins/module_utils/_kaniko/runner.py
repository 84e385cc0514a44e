# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run one build: the orchestration behind kiln.kaniko.build.

validate -> namespace exists -> referenced Secrets exist -> (a local context: packed into a
temporary tar) -> commit or context hash, build key, and whether the registry (or tarball.dest)
already holds that build (then: skip) -> (check mode: return the pod) -> registry Secret from
registry_auth -> pod -> Secret owned by the pod -> wait (a local context is sent in once the
receive container runs) -> (a tarball: fetched or checked) -> logs (and Warning events on
failure) -> delete the registry Secret -> delete the pod as keep_pod says -> result.
A timeout, SIGINT or SIGTERM deletes the pod and the Secret.

A list of builds (option builds) goes to batch.py, which drives BuildRunners through
prepare() / start() / finish() and watches all their pods at once.
"""

from __future__ import annotations

import base64
import dataclasses
import errno
import json
import os
import signal
import threading
import time
from contextlib import contextmanager

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.client import api_client, require_kubernetes
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import CoreApi
from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError, ValidationError, fail_from_exception
from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.exceptions import ClusterError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import BuildFailed, BuildInterrupted
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import context_tar, heartbeat, pod_exec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import pod as pod_render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import status as pod_status
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import tarball as tarball_file
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.build_key import UNAVAILABLE, Decision, with_identity
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.git_remote import RemoteResolver
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identify import identify
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.items import item_specs
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.logs import LogStreamer, writer_for
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.registry_lookup import RegistryLookup
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import build_spec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.waiter import PodEvents, wait_for_pod

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:
    # require_kubernetes() reports the missing library before anything here runs.
    ApiException = None

REQUEST_TIMEOUT = 60
CHECK_MODE_SECRET_NAME = '<generated>'
PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----'


def run(module, option_spec=None, clock=time.monotonic):
    """The module's one call: build (or skip), then exit_json, or fail_json with the reason.

    ``option_spec`` is the module's argument spec of one build, which items of ``builds`` follow.
    """
    require_kubernetes(module)
    # Run as the action plugin's async job, the build stops once nobody polls it (Ctrl-C on the controller).
    watchdog = heartbeat.from_environment()
    lookup = None
    try:
        # Checked for one build too: a value that cannot work is refused whether or not it matters yet.
        if module.params.get('max_concurrent') is not None and module.params['max_concurrent'] < 1:
            raise ValidationError('max_concurrent', 'must be 1 or more')
        if module.params.get('builds') is not None:
            # Imported here: batch.py imports this module.
            from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import batch
            specs, run_log = item_specs(module.params, option_spec)
        else:
            spec = build_spec(module.params)
        core = CoreApi(api_client(module.params))
        tools = dict(secrets=SecretReader(core, module.warn), check_mode=module.check_mode, warn=module.warn,
                     clock=clock)
        tools['resolver'] = RemoteResolver(
            lambda args, env: module.run_command(args, environ_update=env, expand_user_and_vars=False),
            module.get_bin_path('git'), tools['secrets'].data, timeout_command=module.get_bin_path('timeout'))
        tools['lookup'] = lookup = RegistryLookup(tools['secrets'].data, tools['secrets'].registry_ca)
        if module.params.get('builds') is not None:
            result = batch.BatchRunner(core, specs, module.params['max_concurrent'], log_path=run_log, **tools).run()
        else:
            result = BuildRunner(core, spec, **tools).run()
        module.exit_json(**result)
    except KilnError as exc:
        if watchdog is not None and watchdog.fired and isinstance(exc, BuildInterrupted):
            exc.message = watchdog.message
        fail_from_exception(module, exc)
    finally:
        if lookup is not None:
            lookup.close()
        if watchdog is not None:
            watchdog.stop()


class SecretReader(object):
    """Reads each Secret (and each ConfigMap, for registry_ca) once per run. Secret values stay here and in
    the files git_remote.py removes again; they reach no result, log line, argument or environment variable."""

    def __init__(self, core, warn):
        self._core = core
        self._warn = warn
        self._read = {}
        self._lock = threading.Lock()

    def read(self, namespace, name, option):
        """(type, {key: text}) of the Secret, or None when it may not be read (403)."""
        with self._lock:
            return self._read_once('Secret', namespace, name, option)

    def read_config_map(self, namespace, name, option):
        """{key: text} of the ConfigMap (data and binaryData), or None when it may not be read (403)."""
        with self._lock:
            read = self._read_once('ConfigMap', namespace, name, option)
        return read[1] if read else None

    def _read_once(self, kind, namespace, name, option):
        key = (kind, namespace, name)
        if key not in self._read:
            reader = self._core.read_namespaced_secret if kind == 'Secret' else self._core.read_namespaced_config_map
            try:
                response = reader(name, namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
            except ApiException as exc:
                if exc.status == 404:
                    raise ClusterError("{0}: {1} '{2}' was not found in namespace '{3}'; create it there, "
                                       "or correct the name".format(option, kind, name, namespace), {'option': option})
                if exc.status == 403:
                    self._warn("Could not read {0} '{1}' ({2}) to check it: {3}".format(
                        kind, name, option, _api_message(exc)))
                    self._read[key] = None
                    return None
                raise _cluster_error(exc, "read {0} '{1}' ({2})".format(kind, name, option))
            item = json.loads(response.data)
            data = {}
            encoded = item.get('data') if kind == 'Secret' else item.get('binaryData')
            for entry, value in (encoded or {}).items():
                try:
                    data[entry] = base64.b64decode(value).decode('utf-8', 'replace')
                except (TypeError, ValueError):
                    data[entry] = ''
            if kind == 'ConfigMap':
                data.update((entry, value if isinstance(value, str) else '')
                            for entry, value in (item.get('data') or {}).items())
            self._read[key] = (item.get('type'), data)
        return self._read[key]

    def data(self, namespace, name):
        """The Secret's decoded data, or None when it is missing or may not be read."""
        try:
            read = self.read(namespace, name, 'secret')
        except ClusterError:
            return None
        return read[1] if read else None

    def registry_ca(self, namespace, ca, option='registry_ca'):
        """The text of the key that holds the CA of ``ca`` (a RegistryCA), or None when its Secret or ConfigMap
        may not be read. Raises ClusterError, naming ``option``, when the object or the key is missing or the
        key holds no PEM certificate."""
        where = '{0}.{1}'.format(option, ca.source)
        if ca.kind == 'Secret':
            read = self.read(namespace, ca.name, where)
            data = read[1] if read else None
        else:
            data = self.read_config_map(namespace, ca.name, where)
        if data is None:
            return None
        if ca.key not in data:
            raise ClusterError("{0}.key: {1} '{2}' has no key '{3}'; put the registry's CA (PEM) under that key, or "
                               "name the key that holds it in {0}.key (it has: {4})".format(
                                   option, ca.kind, ca.name, ca.key, ', '.join(sorted(data)) or 'no keys'),
                               {'option': option + '.key'})
        if PEM_CERTIFICATE not in data[ca.key]:
            raise ClusterError("{0}.key: key '{1}' of {2} '{3}' holds no PEM certificate ({4}); put the registry's CA "
                               "there, as the registry role's kiln_registry_ca fact or a ca.crt file has it".format(
                                   option, ca.key, ca.kind, ca.name, PEM_CERTIFICATE), {'option': option + '.key'})
        return data[ca.key]


def log_path_error(path, reason):
    return ValidationError('log_path', 'cannot write {0}: {1}; give a file in a directory that exists and is '
                                       'writable'.format(path, reason))


def check_log_path(path):
    """Refuse a log_path that cannot be written, before anything is looked up or created; the file is not made."""
    if not path:
        return
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise log_path_error(path, os.strerror(errno.EISDIR))
    if not os.path.isdir(directory):
        raise log_path_error(path, os.strerror(errno.ENOENT))
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise log_path_error(path, os.strerror(errno.EACCES))


def _api_message(exc):
    """The API server's own message from an ApiException, or its reason."""
    try:
        body = json.loads(exc.body)
        return body.get('message') or exc.reason
    except (TypeError, ValueError, AttributeError):
        return exc.reason


def _cluster_error(exc, doing, details=None):
    return ClusterError('Could not {0}: {1} ({2})'.format(doing, _api_message(exc), exc.status), details)


class _Held(object):
    """Signals that arrived while held_signals() was in force, to be raised when it ends."""

    depth = 0
    pending = None


def _interrupted(signum):
    return BuildInterrupted('Build interrupted by {0}'.format(signal.Signals(signum).name))


@contextmanager
def held_signals():
    """Under raise_on_signals(), hold the interruption until the block is done.

    For requests whose answer must not be lost, such as the one that creates the pod: interrupted
    while it is on its way, the task would not know the pod's name and could not delete it.
    """
    _Held.depth += 1
    try:
        yield
    finally:
        _Held.depth -= 1
        signum = None if _Held.depth else _Held.pending
        if signum is not None:
            _Held.pending = None  # an error on its way out is handled like the interruption would be
    if signum is not None:
        raise _interrupted(signum)


@contextmanager
def ignored_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """Ignore SIGINT and SIGTERM while the block runs: a second Ctrl-C must not cut a cleanup short."""
    previous = {}
    for signum in signals:
        try:
            previous[signum] = signal.signal(signum, signal.SIG_IGN)
        except ValueError:  # not the main thread
            pass
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextmanager
def raise_on_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """Turn SIGINT and SIGTERM into BuildInterrupted while the block runs (later, inside held_signals())."""
    def handler(signum, _frame):
        if _Held.depth:
            _Held.pending = _Held.pending or signum
            return
        raise _interrupted(signum)

    previous = {}
    for signum in signals:
        try:
            previous[signum] = signal.signal(signum, handler)
        except ValueError:  # not the main thread: leave the handlers alone
            pass
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


class BuildRunner(object):
    """One build against the cluster behind ``core`` (a CoreApi, or a kubernetes CoreV1Api)."""

    def __init__(self, core, spec, check_mode=False, warn=None, clock=time.monotonic, secrets=None,
                 resolver=None, lookup=None, run_id=None):
        self.core = core
        self.spec = spec
        self.check_mode = check_mode
        self.warn = warn or (lambda message: None)
        self.clock = clock
        self.secrets = secrets or SecretReader(core, self.warn)
        self.resolver = resolver
        self.lookup = lookup
        self.run_id = run_id
        self.auth_secret_name = None
        self.pod_name = None
        self.logs = None
        self.pod_events = None
        self.created_pod = None
        self.registry_key = None
        self.decision = None
        self.started = None
        # The local context, packed (context_tar.PackedContext), and whether the pod has it.
        self.packed = None
        self.sent = False

    # Checks before anything is created.

    def check_namespace(self):
        try:
            self.core.read_namespace(self.spec.namespace, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                raise ClusterError("namespace: '{0}' does not exist; create it first".format(self.spec.namespace),
                                   {'option': 'namespace'})
            if exc.status != 403:  # without access to namespaces, creating the pod will tell
                raise _cluster_error(exc, "read namespace '{0}'".format(self.spec.namespace))

    def _secret_keys(self, option, name):
        """The type and keys of Secret ``name``, or (None, None) when it may not be read."""
        read = self.secrets.read(self.spec.namespace, name, option)
        if read is None:
            return None, None
        return read[0], set(read[1])

    def check_secrets(self):
        """Check the Secrets the options name; return the key of registry_secret to mount."""
        git = self.spec.git
        if git and git.secret:
            _type, keys = self._secret_keys('git.secret', git.secret)
            if keys is not None:
                if git.repo.transport == 'ssh':
                    missing = [key for key in ('ssh-privatekey', 'known_hosts') if key not in keys]
                    if missing:
                        raise ClusterError("git.secret: Secret '{0}' lacks {1}, which an SSH git.repo needs".format(
                            git.secret, ' and '.join(missing)), {'option': 'git.secret'})
                elif 'token' not in keys and not {'username', 'password'} <= keys:
                    raise ClusterError("git.secret: Secret '{0}' has neither a key token nor the keys username "
                                       "and password".format(git.secret), {'option': 'git.secret'})

        for index, ca in enumerate(self.spec.registry_ca):
            self.secrets.registry_ca(self.spec.namespace, ca, 'registry_ca[{0}]'.format(index))

        if not self.spec.registry_secret:
            return pod_render.DOCKERCONFIGJSON
        secret_type, keys = self._secret_keys('registry_secret', self.spec.registry_secret)
        if keys is None:
            return pod_render.DOCKERCONFIGJSON
        if secret_type == 'kubernetes.io/dockerconfigjson' and pod_render.DOCKERCONFIGJSON in keys:
            return pod_render.DOCKERCONFIGJSON
        if pod_render.CONFIG_JSON in keys:
            return pod_render.CONFIG_JSON
        raise ClusterError("registry_secret: Secret '{0}' has neither the key .dockerconfigjson (type "
                           "kubernetes.io/dockerconfigjson) nor config.json".format(self.spec.registry_secret),
                           {'option': 'registry_secret'})

    # The build.

    def prepare(self):
        """Everything before the pod: the checks, and whether the build must run at all."""
        check_log_path(self.spec.log_path)  # also when the build is then skipped, and in check mode
        self.check_local_paths()
        self.check_namespace()
        self.registry_key = self.check_secrets()
        if self.spec.local:
            self.pack()
        if self.resolver is None:
            self.decision = Decision(UNAVAILABLE, 'not checked')
        else:
            self.decision = identify(self.spec, self.resolver, self.lookup)
        if self.decision.key:
            self.spec = with_identity(self.spec, self.decision.commit, self.decision.key)
        if self.decision.check == UNAVAILABLE and self.resolver is not None and self.spec.push:
            self.warn('Building without looking for an existing image: {0}'.format(self.decision.detail))

    def check_local_paths(self):
        """Refuse a context or tarball.dest the module's host cannot use, before anything else."""
        local = self.spec.local
        if local:
            context_tar.check_directory(local.path)
            root = self.context_root()
            if root != local.path and not os.path.isdir(root):
                raise ValidationError('context_sub_path', "'{0}' is not a directory in local_context.path {1}; give the "
                                                          "folder of the build context".format(
                                                              self.spec.context_sub_path, local.path))
            if not os.path.isfile(os.path.join(root, self.spec.dockerfile)):
                raise ValidationError('dockerfile', "'{0}' is not a file in the build context {1}; give the path of "
                                                    "the Dockerfile relative to it".format(self.spec.dockerfile, root))
        if self.spec.tarball and self.spec.tarball.dest:
            tarball_file.check_dest(self.spec.tarball.dest)

    def context_root(self):
        """The directory packed as the build context: local_context.path, and context_sub_path in it."""
        local = self.spec.local
        return os.path.join(local.path, self.spec.context_sub_path) if self.spec.context_sub_path else local.path

    def pack(self):
        """Pack the local context into a temporary tar; its hash goes into the spec (and so the build key)."""
        self.release()
        self.packed = context_tar.pack(self.context_root(), self.spec.local.max_size, always=(self.spec.dockerfile,))
        self.spec = dataclasses.replace(self.spec, local=dataclasses.replace(
            self.spec.local, size=self.packed.size, sha256=self.packed.sha256))

    def release(self):
        """Remove the temporary tar of the local context."""
        if self.packed is not None:
            self.packed.remove()
            self.packed = None

    def identity(self):
        """The result keys that say what was (or would be) built and why."""
        decision = self.decision or Decision(UNAVAILABLE, 'not checked')
        identity = dict(build_key=decision.key, skip_check=decision.check, skip_detail=decision.detail,
                        cache_repo=self.spec.cache_repo if self.spec.cache else None)
        local = self.spec.local
        if local and local.sha256:
            identity['local_context'] = dict(path=self.context_root(), size=local.size, sha256=local.sha256)
        return identity

    def skipped_result(self):
        decision = self.decision
        result = dict(changed=False, commit=decision.commit, digest=decision.digest,
                      image=decision.images[0] if decision.images else None, images=list(decision.images),
                      skipped_reason=decision.detail, msg='Skipped: ' + decision.detail)
        if decision.tarball:
            result['tarball'] = decision.tarball
        result.update(self.identity())
        return result

    def check_mode_result(self):
        placeholder = self.spec.name + '-auth-' + CHECK_MODE_SECRET_NAME if self.spec.registry_auth else None
        manifest = pod_render.render_pod(self.spec, auth_secret_name=placeholder, registry_secret_key=self.registry_key,
                                         run_id=self.run_id)
        result = dict(changed=True, pod=manifest, commit=self.decision.commit,
                      msg='Check mode: the build pod would be created')
        result.update(self.identity())
        return result

    def run(self):
        try:
            self.prepare()
            if self.decision.skip:
                return self.skipped_result()
            if self.check_mode:
                return self.check_mode_result()

            log_file = self._open_log()
            try:
                return self._build(self.registry_key, log_file)
            finally:
                if log_file:
                    log_file.close()
        finally:
            self.release()

    def _open_log(self):
        if not self.spec.log_path:
            return None
        try:
            return open(self.spec.log_path, 'wb')
        except (IOError, OSError) as exc:
            raise log_path_error(self.spec.log_path, exc.strerror or exc)

    def _build(self, registry_key, log_file):
        started = None
        try:
            with raise_on_signals():
                self._create(registry_key)
                started = self.clock()
                self._follow_logs(log_file)
                self.pod_events = PodEvents(self.core, self.spec.namespace, self.pod_name)
                waited = wait_for_pod(self.pod_events, self.clock, self.spec.timeout, self.spec.unschedulable_timeout,
                                      on_running=self.on_running)
                duration = round(self.clock() - started, 1)
                lines = self._collect_logs()
        except KilnError as exc:  # interrupted, or the Secret or the pod could not be created
            self._cleanup(delete_pod=True, running=True)
            exc.details.update(self._details(started))
            raise
        except ApiException as exc:
            self._cleanup(delete_pod=True, running=True)
            raise _cluster_error(exc, 'run the build pod', self._details(started))
        except Exception as exc:  # e.g. the API server became unreachable: do not leave the pod behind
            self._cleanup(delete_pod=True, running=True)
            raise ClusterError('Lost contact with the build pod: {0}: {1}'.format(type(exc).__name__, exc),
                               self._details(started))
        return self.result(waited, duration, lines)

    def start(self, log_file=None, log_label=''):
        """Create the pod (and the registry Secret), and follow its logs into ``log_file``; return the created pod.

        Raises KilnError with nothing left behind.
        """
        try:
            self._create(self.registry_key)
        except ApiException as exc:
            self._cleanup(delete_pod=True, running=True)
            raise _cluster_error(exc, 'create the build pod', self._details(None))
        self.started = self.clock()
        self._follow_logs(log_file, log_label)
        self.pod_events = PodEvents(self.core, self.spec.namespace, self.pod_name)
        return self.created_pod

    def finish(self, waited):
        """The result of a started build that ``waited`` (a WaitResult) says is over; raises BuildFailed."""
        duration = round(self.clock() - self.started, 1)
        try:
            lines = self._collect_logs()
        except ApiException as exc:
            self._cleanup(delete_pod=True, running=False)
            raise _cluster_error(exc, 'read the log of pod {0}'.format(self.pod_name), self._details(self.started))
        return self.result(waited, duration, lines)

    def abort(self):
        """Give up on a started build: delete its registry Secret and its pod at once."""
        self._cleanup(delete_pod=True, running=True)

    def on_running(self, pod):
        """Send the local context once the receive container runs (see waiter.PodWait); an Outcome if it failed."""
        if not self.spec.local or self.sent or not pod_status.container_running(pod, pod_render.RECEIVE):
            return None
        local = self.spec.local
        try:
            pod_exec.send_file(self.core, self.spec.namespace, self.pod_name, pod_render.RECEIVE,
                               pod_render.receive_command(self.spec, local.size), self.packed.file, local.size)
        except pod_exec.ExecError as exc:
            return pod_status.transfer_failed(pod_render.RECEIVE, pod_status.CONTEXT_NOT_RECEIVED, (
                'could not send the build context ({0}) into the pod: {1}'.format(
                    context_tar.human_size(local.size), exc.message)))
        self.sent = True
        self.release()
        return None

    def _export(self):
        """Bring the tarball out of the pod (tarball.dest) or check it on the claim (tarball.pvc)."""
        with raise_on_signals():
            if self.spec.tarball.dest:
                return tarball_file.fetch(self.core, self.spec.namespace, self.pod_name, self.spec)
            return tarball_file.keep_on_claim(self.core, self.spec.namespace, self.pod_name, self.spec)

    def _release_export(self, discard):
        """Let the export container of a pod that stays end; first remove a partial tarball from the claim."""
        commands = []
        if discard and self.spec.tarball.pvc:
            commands.append(pod_render.discard_command(self.spec))
        commands.append(pod_render.release_command())
        for command in commands:
            try:
                pod_exec.run(self.core, self.spec.namespace, self.pod_name, pod_render.EXPORT, command)
            except pod_exec.ExecError as exc:
                self.warn('Could not tidy the export container of pod {0}: {1}'.format(self.pod_name, exc.message))
                return

    def result(self, waited, duration, lines):
        """The result of an ended build; raises BuildFailed when it failed."""
        outcome = waited.outcome
        pod = waited.pod or {}
        commit = pod_status.parse_commit((pod_status.container_termination(pod, pod_render.CLONE) or {}).get('message'))
        result = dict(
            changed=True,
            pod_name=self.pod_name,
            commit=commit,
            duration=duration,
            rc=outcome.exit_code,
            container=outcome.container,
            reason=outcome.reason,
            log_lines=lines,
        )
        result.update(self.identity())

        if outcome.state == pod_status.SUCCEEDED and self.spec.tarball:
            try:
                result['tarball'] = self._export()
            except pod_exec.ExecError as exc:
                outcome = pod_status.transfer_failed(pod_render.EXPORT, pod_status.TARBALL_NOT_FETCHED, (
                    'could not {0} the tarball: {1}'.format('fetch' if self.spec.tarball.dest else 'check',
                                                            exc.message)))
                result.update(rc=None, container=outcome.container, reason=outcome.reason)
            except KilnError as exc:  # interrupted
                self._cleanup(delete_pod=True, running=True)
                exc.details.update(result)
                raise
            else:
                if self.spec.keep_pod == 'always':
                    self._release_export(discard=False)

        if outcome.state == pod_status.SUCCEEDED:
            self._cleanup(delete_pod=self.spec.keep_pod != 'always', running=False)
            termination = pod_status.container_termination(pod, pod_render.KANIKO) or {}
            digest, images = pod_status.parse_termination(termination.get('message'))
            result.update(digest=digest, images=images, image=images[0] if images else None, events=[])
            if self.spec.tarball:
                where = self.spec.tarball.dest or '{0} in claim {1}'.format(self.spec.tarball.path, self.spec.tarball.pvc)
                result['msg'] = 'Built {0} into the tarball {1}'.format(self.spec.destinations[0], where)
            elif self.spec.push:
                result['msg'] = 'Built and pushed {0}'.format(result['image'] or ', '.join(self.spec.destinations))
            else:
                result['msg'] = 'Built (not pushed, push is false)'
            result['pod_kept'] = self.spec.keep_pod == 'always'
            return result

        events = self._warning_events()
        # Only a pod that has ended is kept: one given up on while pending or running
        # (timeout, image pull error, unschedulable) could still build later.
        # A container that exited non-zero under restartPolicy Never has ended the pod too.
        # A build out of time (the task's timeout, or the pod's deadline) is deleted like an interrupted one.
        finished = (((pod.get('status') or {}).get('phase') in ('Succeeded', 'Failed') or outcome.exit_code is not None)
                    and outcome.reason not in (pod_status.TIMEOUT, pod_status.DEADLINE_EXCEEDED))
        keep = finished and self.spec.keep_pod in ('always', 'on_failure')
        if self.spec.tarball and outcome.reason != pod_status.DELETED and (
                keep or self.spec.tarball.pvc) and pod_status.container_running(pod, pod_render.EXPORT):
            self._release_export(discard=True)
        self._cleanup(delete_pod=not keep and outcome.reason != pod_status.DELETED, running=not finished)
        result.update(events=events, hint=outcome.hint, pod_kept=keep, digest=None, image=None, images=[])
        raise BuildFailed(pod_status.describe(outcome, pod_status.telling_line(lines)), result)

    def _create(self, registry_key):
        with held_signals():
            self._create_held(registry_key)

    def _create_held(self, registry_key):
        spec = self.spec
        if spec.registry_auth:
            try:
                response = self.core.create_namespaced_secret(
                    spec.namespace, pod_render.render_auth_secret(spec, self.run_id),
                    _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
            except ApiException as exc:
                raise _cluster_error(exc, 'create the registry Secret for registry_auth')
            self.auth_secret_name = json.loads(response.data)['metadata']['name']
        manifest = pod_render.render_pod(spec, auth_secret_name=self.auth_secret_name, registry_secret_key=registry_key,
                                         run_id=self.run_id)
        try:
            response = self.core.create_namespaced_pod(
                spec.namespace, manifest, _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            self._cleanup(delete_pod=False, running=False)
            raise _cluster_error(exc, 'create the build pod')
        created = json.loads(response.data)
        self.created_pod = created
        self.pod_name = created['metadata']['name']
        if self.auth_secret_name:
            self.core.patch_namespaced_secret(
                self.auth_secret_name, spec.namespace,
                {'metadata': {'ownerReferences': [pod_render.owner_reference(created)]}},
                _content_type='application/merge-patch+json', _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT)

    def _details(self, started):
        details = dict(changed=self.pod_name is not None, pod_name=self.pod_name, pod_kept=False)
        details.update(self.identity())
        if started is not None:
            details['duration'] = round(self.clock() - started, 1)
        return details

    # After the build.

    def _follow_logs(self, log_file, log_label=''):
        """Start following the logs of the created pod, into ``log_file`` (see logs.py).

        ``log_label`` goes before the container name in the headers of a log file that several builds share.
        """
        containers = (pod_render.init_container_name(self.spec), pod_render.KANIKO)
        self.logs = LogStreamer(self.core, self.spec.namespace, self.pod_name, containers,
                                writer_for(log_file), log_label, self.spec.log_lines, REQUEST_TIMEOUT).start()

    def _collect_logs(self):
        """The last log_lines lines of clone (or receive), then kaniko, all of them written to log_path as they
        came (the follow began with the pod: _follow_logs)."""
        return self.logs.finish()

    def _warning_events(self):
        try:
            return pod_status.warning_messages(self.pod_events.events(REQUEST_TIMEOUT))
        except ApiException as exc:
            self.warn('Could not read the events of pod {0}: {1}'.format(self.pod_name, _api_message(exc)))
            return []

    def _delete(self, kind, name, running):
        delete = self.core.delete_namespaced_pod if kind == 'pod' else self.core.delete_namespaced_secret
        try:
            delete(name, self.spec.namespace, grace_period_seconds=0 if running else None,
                   propagation_policy='Background', _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status != 404:
                self.warn('Could not delete {0} {1}: {2}'.format(kind, name, _api_message(exc)))
        except KilnError as exc:  # the API server is gone (client.ApiUnreachable): say what is left
            deadline = self.spec.timeout + pod_render.DEADLINE_GRACE
            left = ('its activeDeadlineSeconds ({0} s) stops it'.format(deadline) if kind == 'pod' else
                    'the deletion of its pod removes it (it is owned by the pod)')
            self.warn('Could not delete {0} {1} in namespace {2}: {3}; {4}'.format(
                kind, name, self.spec.namespace, exc.message, left))

    def _cleanup(self, delete_pod, running):
        """Delete the registry Secret (always) and the pod (when asked); SIGINT and SIGTERM are ignored meanwhile."""
        with ignored_signals():
            if delete_pod and running and self.logs is not None:
                self.logs.stop(grace=0)
            if self.auth_secret_name:
                self._delete('secret', self.auth_secret_name, running=False)
                self.auth_secret_name = None
            if delete_pod and self.pod_name:
                self._delete('pod', self.pod_name, running)
