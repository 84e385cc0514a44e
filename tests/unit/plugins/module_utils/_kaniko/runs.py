# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A BuildRun against the shared core/v1 fake, as the module's edge makes one, with stand-ins for the git
resolver and the registry lookup."""

from __future__ import annotations

import base64
import time

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import edge
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.engine import KubernetesEngine
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes.secrets import SecretReader
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity import build_key
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.commit import Unresolved
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run.build_run import BuildRun
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import RunScript
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec

COMMIT = 'a' * 40


def log_wait(_seconds):
    """The log follower asks again at once (the fake's pods end when the test says, not after a while)."""
    time.sleep(0.001)
    return False


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
            return build_key.Existing(destination, repository, {'io.kiln.build-key': build_key.build_key(spec, COMMIT)},
                                      'sha256:' + 'f' * 64)
        return build_key.Existing(destination, repository)

    def indexed(self, spec, index_ref, platform):
        """No index lists a platform's image here: a platform is found by its own tag or not at all."""
        return None


class Run(object):
    """A BuildRun of ``specs`` on ``core`` (a FakeCore), its event source (``watch``) and the warnings given."""

    def __init__(self, core, specs, plan=None, built=(), check_mode=False, max_concurrent=2, resolver=None,
                 items=True, **kwargs):
        self.core = core
        self.watch = RunScript(core, plan, clock=kwargs.get('clock'))
        self.warnings = []
        self.items = items
        self.build_run = BuildRun(KubernetesEngine(core, log_wait), specs, max_concurrent, SecretReader(core, self.warnings.append),
                                  check_mode=check_mode, warn=self.warnings.append, resolver=resolver or Resolver(),
                                  lookup=Lookup(built), watch_factory=self.watch.factory, items=items, **kwargs)

    @property
    def run_id(self):
        return self.build_run.run_id

    def run(self):
        """The task's result, as the module's edge makes it; the temporary files are released after."""
        try:
            return edge.run_builds(self.build_run, self.items)
        finally:
            self.build_run.release()


def secret(**data):
    """A Secret of type Opaque as the API returns it (values base64)."""
    return {'type': 'Opaque', 'data': {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}}


def single(core, check_mode=False, **overrides):
    """The one build of a task without builds, as the module runs it."""
    return Run(core, [make_spec(**overrides)], items=False, resolver=None, check_mode=check_mode)
