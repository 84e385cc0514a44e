# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The execs the module runs in the receive and export containers: their scripts get their values as arguments.
test_scripts.py runs the scripts themselves."""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import execs
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import scripts
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.pod.test_render import DEST, PVC, local_spec


def test_the_receive_exec_gets_its_values_as_arguments():
    command = execs.receive_command(local_spec(), 10240)
    assert command[:2] == ['/bin/sh', '-c']
    assert command[3:] == ['kiln', '/workspace/src/web', '10240', scripts.RECEIVED]
    assert '/workspace/src/web' not in command[2]


def test_tarball_execs():
    spec = make_spec(**PVC)
    assert execs.keep_command(spec)[3:] == ['kiln', '/kiln/out', '.app.tar.kiln-partial', 'app.tar']
    assert execs.discard_command(spec)[3:] == ['kiln', '/kiln/out/.app.tar.kiln-partial']
    assert execs.fetch_command(make_spec(**DEST))[3:] == ['kiln', '/kiln/out/image.tar']
    assert execs.release_command()[3:] == ['kiln', scripts.RELEASED]
