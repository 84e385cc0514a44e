# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pod's shell scripts as a module of their own: all listed for a linter, all valid sh, placed as they are."""

from __future__ import annotations

import os
import subprocess

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import scripts
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec


def test_every_script_of_the_module_is_listed_once():
    defined = {name for name in vars(scripts) if name.endswith(('_SCRIPT', '_EXEC'))}
    listed = [script for _name, script in scripts.SHELL_SCRIPTS]
    assert sorted(listed) == sorted(getattr(scripts, name) for name in defined)
    assert len({name for name, _script in scripts.SHELL_SCRIPTS}) == len(scripts.SHELL_SCRIPTS)


@pytest.mark.skipif(not os.path.exists('/bin/sh'), reason='needs /bin/sh')
@pytest.mark.parametrize('name, script', scripts.SHELL_SCRIPTS)
def test_every_script_is_valid_sh(name, script):
    done = subprocess.run(['/bin/sh', '-n', '-c', script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, (name, done.stderr)


def test_the_clone_script_names_the_paths_the_renderer_mounts():
    assert scripts.GIT_SECRET_DIR in scripts.CLONE_SCRIPT and scripts.TERMINATION_LOG in scripts.CLONE_SCRIPT
    clone = render.render_pod(make_spec(git=dict(repo='git@github.com:example/api.git', secret='deploy-key')))
    (init,) = clone['spec']['initContainers']
    assert init['command'] == ['/bin/sh', '-c', scripts.CLONE_SCRIPT]
    assert {'name': 'git-secret', 'mountPath': scripts.GIT_SECRET_DIR, 'readOnly': True} in init['volumeMounts']
