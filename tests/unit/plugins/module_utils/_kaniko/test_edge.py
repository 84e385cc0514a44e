# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one edge of both modules: edge.run(module, backend) with a backend of the test's own, so that what the
edge does itself is seen alone: the backend's shape on success and on failure, one fail_json, and the engine and
the registry lookup released whatever happened."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError, ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import edge
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.base import Checked
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.engine import KubernetesEngine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.backend import PodmanBackend
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec


class Ended(Exception):
    """exit_json or fail_json was called: the module's run ends there, as AnsibleModule's does."""

    def __init__(self, failed, result):
        super().__init__(result.get('msg'))
        self.failed = failed
        self.result = result


class Module:
    """What the edge uses of AnsibleModule; git and timeout are missing, so the commit is unresolved."""

    def __init__(self, params=None, check_mode=True):
        self.params = dict(params or {})
        self.check_mode = check_mode
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)

    def get_bin_path(self, _name):
        return None

    def run_command(self, *_args, **_kwargs):
        raise AssertionError('no command runs without git')

    def exit_json(self, **result):
        raise Ended(False, result)

    def fail_json(self, **result):
        raise Ended(True, result)


class Credentials:
    def check(self, spec):
        del spec
        return Checked(render.DOCKERCONFIGJSON)

    def data(self, namespace, name):
        return None

    def registry_ca(self, namespace, ca, option='registry_ca'):
        return None


class Backend:
    """A backend of the test: ``specs`` as given (or ``fails``), a KubernetesEngine on a FakeCore, and a result
    shape that renames pod_name, as the podman backend does."""

    def __init__(self, specs=None, fails=None, engine_fails=None):
        self.spec_list = specs if specs is not None else [make_spec()]
        self.fails = fails
        self.engine_fails = engine_fails
        self.closed = []

    def require(self, module):
        del module

    def specs(self, params):
        if self.fails:
            raise self.fails
        return self.spec_list, None, False

    def credentials(self, module):
        del module
        return Credentials()

    def engine(self, module, specs, credentials):
        if self.engine_fails:
            raise self.engine_fails
        engine = KubernetesEngine(FakeCore())
        engine.close = self.closed.append
        return engine

    @staticmethod
    def reported(result):
        return dict(PodmanBackend.reported(result), shaped_by='backend')


def test_a_check_mode_build_reports_in_the_backend_s_shape_and_releases_the_engine():
    backend = Backend()
    module = Module()
    with pytest.raises(Ended) as ended:
        edge.run(module, backend)
    result = ended.value.result
    assert ended.value.failed is False and result['changed'] is True
    assert result['msg'] == 'Check mode: the build pod would be created' and result['shaped_by'] == 'backend'
    assert backend.closed == [module.warn]  # the engine is closed once, with the module's warn


def test_a_bad_option_fails_once_naming_it_before_any_engine_is_made():
    backend = Backend(fails=ValidationError('max_concurrent', 'must be 1 or more'))
    with pytest.raises(Ended) as ended:
        edge.run(Module(), backend)
    assert ended.value.failed is True and ended.value.result['changed'] is False
    assert ended.value.result['msg'] == 'max_concurrent: must be 1 or more'
    assert ended.value.result['option'] == 'max_concurrent'
    assert backend.closed == []


def test_an_engine_that_cannot_be_made_fails_the_task_with_its_own_message():
    backend = Backend(engine_fails=KilnError('podman is not installed', {'reason': 'PodmanNotFound', 'pod_name': None}))
    with pytest.raises(Ended) as ended:
        edge.run(Module(), backend)
    assert ended.value.failed is True and ended.value.result['msg'] == 'podman is not installed'
    assert ended.value.result['reason'] == 'PodmanNotFound'


def test_a_failed_build_s_details_are_in_the_backend_s_shape():
    backend = Backend(specs=[make_spec(namespace='missing')])

    def check_namespace(namespace):
        raise KilnError("namespace: '{0}' does not exist; create it first".format(namespace),
                        {'option': 'namespace', 'pod_name': 'kiln-build-1', 'events': []})
    original = backend.engine

    def engine(module, specs, credentials):
        made = original(module, specs, credentials)
        made.check_namespace = check_namespace
        return made
    backend.engine = engine
    with pytest.raises(Ended) as ended:
        edge.run(Module(), backend)
    result = ended.value.result
    assert ended.value.failed is True and result['msg'] == "namespace: 'missing' does not exist; create it first"
    assert result['container_name'] == 'kiln-build-1' and 'pod_name' not in result and 'events' not in result
    assert result['shaped_by'] == 'backend'
    assert len(backend.closed) == 1  # released after a failure too
