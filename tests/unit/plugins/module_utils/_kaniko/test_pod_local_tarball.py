# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pod of a local context (receive container) and of a tarball (export container), and their execs."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import execs
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import scripts
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import (
    DOCKERCOINS_RNG,
    make_spec,
    module_params,
)

kubernetes_validate = pytest.importorskip('kubernetes_validate')

LOCAL = dict(local_context=dict(path='/home/ci/app'), context_sub_path='web')
DEST = dict(tarball=dict(dest='/tmp/out/app.tar'))
PVC = dict(tarball=dict(pvc='artifacts', path='images/app.tar'))


def validate(manifest):
    for version in ('1.30', kubernetes_validate.latest_version()):
        kubernetes_validate.validate(manifest, version, strict=True)


def local_spec(**overrides):
    params = {**DOCKERCOINS_RNG, **LOCAL}
    params.pop('git')
    params.update(overrides)
    spec = build_spec(module_params(**params))
    return dataclasses.replace(spec, local=dataclasses.replace(spec.local, size=10240, sha256='ab' * 32))


def containers(manifest):
    return {c['name']: c for c in manifest['spec']['initContainers'] + manifest['spec']['containers']}


@pytest.mark.parametrize('overrides', [{}, DEST, PVC, dict(PVC, tarball=dict(pvc='artifacts', path='app.tar'))])
def test_local_and_tarball_pods_match_the_openapi_schema(overrides):
    validate(render.render_pod(local_spec(**overrides)))
    validate(render.render_pod(make_spec(**overrides)))


def test_a_local_context_has_a_receive_container_instead_of_the_clone():
    manifest = render.render_pod(local_spec())
    assert [c['name'] for c in manifest['spec']['initContainers']] == ['receive']
    receive = containers(manifest)['receive']
    assert receive['image'] == 'docker.io/alpine/git:2.49.1'
    assert receive['command'][:2] == ['/bin/sh', '-c'] and scripts.RECEIVED in receive['command'][2]
    assert receive['securityContext']['runAsNonRoot'] and receive['securityContext']['capabilities'] == {'drop': ['ALL']}
    assert 'env' not in receive
    volumes = [v['name'] for v in manifest['spec']['volumes']]
    assert volumes == ['workspace']  # no git home, no git secret
    annotations = manifest['metadata']['annotations']
    assert annotations == {render.ANNOTATION_CONTEXT: 'ab' * 32}
    kaniko = containers(manifest)['kaniko']
    assert kaniko['args'][:2] == ['--context=dir:///workspace/src/web', '--dockerfile=/workspace/src/web/Dockerfile']


def test_the_receive_exec_gets_its_values_as_arguments():
    command = execs.receive_command(local_spec(), 10240)
    assert command[:2] == ['/bin/sh', '-c']
    assert command[3:] == ['kiln', '/workspace/src/web', '10240', scripts.RECEIVED]
    assert '/workspace/src/web' not in command[2]


def test_the_receive_exec_unpacks_exactly_the_bytes_it_is_told_and_marks_the_end(tmp_path):
    """Run the script itself with a local sh: the tar, then bytes nobody must read (the exec cannot close stdin)."""
    source = tmp_path / 'src'
    source.mkdir()
    (source / 'Dockerfile').write_text('FROM scratch\n')
    archive = tmp_path / 'c.tar'
    subprocess.run(['tar', '-c', '-f', str(archive), '-C', str(source), 'Dockerfile'], check=True)
    data = archive.read_bytes()
    target = tmp_path / 'workspace' / 'src' / 'web'
    marker = tmp_path / 'received'
    script = execs.receive_command(local_spec(), len(data))[2]
    process = subprocess.Popen(['/bin/sh', '-c', script, 'kiln', str(target), str(len(data)), str(marker)],
                               stdin=subprocess.PIPE)
    process.stdin.write(data)
    process.stdin.flush()  # stdin stays open, as with the exec protocol
    assert process.wait(timeout=20) == 0
    process.stdin.close()
    assert (target / 'Dockerfile').read_text() == 'FROM scratch\n'
    assert marker.exists()


def test_tarball_dest_pod():
    manifest = render.render_pod(make_spec(**DEST))
    kaniko = containers(manifest)['kaniko']
    assert '--no-push' in kaniko['args']
    assert '--tar-path=/kiln/out/image.tar' in kaniko['args']
    assert '--destination=registry:5000/rng:latest' in kaniko['args']
    assert {'name': 'out', 'mountPath': '/kiln/out'} in kaniko['volumeMounts']
    export = containers(manifest)['export']
    assert [c['name'] for c in manifest['spec']['containers']] == ['kaniko', 'export']
    assert export['volumeMounts'] == [{'name': 'out', 'mountPath': '/kiln/out'},
                                      {'name': 'export-state', 'mountPath': '/kiln/state'}]
    assert export['securityContext']['capabilities'] == {'drop': ['ALL']}
    assert export['securityContext']['allowPrivilegeEscalation'] is False
    assert scripts.RELEASED in export['command'][2]
    volumes = {v['name']: v for v in manifest['spec']['volumes']}
    assert volumes['out'] == {'name': 'out', 'emptyDir': {}}
    assert volumes['export-state']['emptyDir']['medium'] == 'Memory'


def test_tarball_pvc_pod_writes_a_partial_file_in_the_claims_folder():
    manifest = render.render_pod(make_spec(**PVC))
    kaniko = containers(manifest)['kaniko']
    assert '--tar-path=/kiln/out/.app.tar.kiln-partial' in kaniko['args']
    mount = {'name': 'out', 'mountPath': '/kiln/out', 'subPath': 'images'}
    assert mount in kaniko['volumeMounts'] and mount in containers(manifest)['export']['volumeMounts']
    volumes = {v['name']: v for v in manifest['spec']['volumes']}
    assert volumes['out'] == {'name': 'out', 'persistentVolumeClaim': {'claimName': 'artifacts'}}


def test_tarball_execs():
    spec = make_spec(**PVC)
    assert execs.keep_command(spec)[3:] == ['kiln', '/kiln/out', '.app.tar.kiln-partial', 'app.tar']
    assert execs.discard_command(spec)[3:] == ['kiln', '/kiln/out/.app.tar.kiln-partial']
    assert execs.fetch_command(make_spec(**DEST))[3:] == ['kiln', '/kiln/out/image.tar']
    assert execs.release_command()[3:] == ['kiln', scripts.RELEASED]


def test_the_keep_exec_renames_only_a_checked_file(tmp_path):
    (tmp_path / '.app.tar.kiln-partial').write_bytes(b'x' * 1000)
    command = execs.keep_command(make_spec(**PVC))
    out = subprocess.run(command[:3] + ['kiln', str(tmp_path), '.app.tar.kiln-partial', 'app.tar'],
                         capture_output=True, check=True).stdout.decode().split()
    assert out[0] == '1000' and len(out[1]) == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ['app.tar']
    missing = subprocess.run(command[:3] + ['kiln', str(tmp_path), '.other.kiln-partial', 'other.tar'], check=False)
    assert missing.returncode != 0
