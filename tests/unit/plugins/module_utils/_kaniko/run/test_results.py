# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The result policy: a build's result and its failure as the module reports them (a signed build, an image left
unsigned), and an item of builds described."""

from __future__ import annotations

import dataclasses

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import results
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import load_fixture, make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.pod.test_states import DONE, KANIKO_DONE, _pod
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.supply.test_steps import DIGEST, supply_spec

RUNNING = {'running': {'startedAt': '2026-12-07T19:00:00Z'}}


def test_describe_item():
    spec = make_spec(destinations=None, push=False, context_sub_path='dockercoins/rng')
    assert results.describe_item(3, spec) == 'builds[3] (https://github.com/jpetazzo/container.training dockercoins/rng)'
    assert render.run_selector('abc') == 'kiln.kaniko/run=abc'


def test_a_failure_after_the_push_reports_the_image_as_unsigned():
    spec = supply_spec()
    failed = {'terminated': {'exitCode': 1, 'reason': 'Error'}}
    pod = _pod([('clone', DONE), ('kaniko', KANIKO_DONE), ('sbom', DONE)], [('sign', failed)], phase='Failed')
    error = results.failure(states.classify(pod), {}, [], False, spec, pod)
    assert error.details['digest'] == DIGEST and error.details['signed'] is False
    assert error.details['image'] == 'registry:5000/app:1@' + DIGEST
    plain = results.failure(states.classify(pod), {}, [], False, make_spec(), pod)
    assert plain.details['digest'] is None and 'signed' not in plain.details


def test_a_signed_build_gives_the_references_cosign_made():
    spec = supply_spec()
    pod = _pod([('clone', DONE), ('kaniko', KANIKO_DONE), ('sbom', DONE)], [('sign', DONE)], phase='Succeeded')
    result = results.succeeded(spec, {}, pod, False)
    tag = 'sha256-' + 'ab' * 32
    assert result['signed'] is True
    assert result['signatures'] == ['registry:5000/app:{0}.sig'.format(tag), 'mirror:5000/team/app:{0}.sig'.format(tag)]
    assert result['attestations'] == ['registry:5000/app:{0}.att'.format(tag), 'mirror:5000/team/app:{0}.att'.format(tag)]
    assert result['sbom']['predicate_type'] == 'https://spdx.dev/Document'
    held = _pod([('clone', DONE), ('kaniko', KANIKO_DONE)], [('sbom', DONE), ('attach', RUNNING)], phase='Running',
                spec_containers=('sbom', 'attach'))
    unsigned = results.succeeded(supply_spec(sign=None), {}, held, False)
    assert unsigned['signed'] is False and 'signatures' not in unsigned
    # The artifact's digest is known once the module has attached it (supply/attach.py fills the references).
    assert unsigned['sbom']['references'] == [] and unsigned['sbom']['media_type'] == 'application/spdx+json'


def test_a_kept_pod_whose_attach_container_holds_the_sbom_has_it_released():
    held = _pod([('clone', DONE), ('kaniko', KANIKO_DONE)], [('sbom', DONE), ('attach', RUNNING)], phase='Running',
                spec_containers=('sbom', 'attach'))
    assert states.classify(held).state == states.SUCCEEDED and states.classify(held).container == 'sbom'
    assert results.retention(supply_spec(sign=None, keep_pod='always'), states.classify(held), held).release_sbom
    assert not results.retention(supply_spec(sign=None), states.classify(held), held).release_sbom
    failed = {'terminated': {'exitCode': 1, 'reason': 'Error'}}
    broken = _pod([('clone', DONE), ('kaniko', KANIKO_DONE)], [('sbom', failed), ('attach', RUNNING)], spec_containers=('sbom', 'attach'),
                  phase='Running')
    outcome = states.classify(broken)
    assert outcome.state == states.FAILED and outcome.container == 'sbom'
    assert results.retention(supply_spec(sign=None, keep_pod='on_failure'), outcome, broken).release_sbom


def lost(name):
    pod = load_fixture('{0}.json'.format(name))['pod']
    return states.classify(pod), pod


def test_each_pod_of_a_build_is_an_attempt_with_its_node_and_what_happened():
    outcome, pod = lost('recorded/evicted_by_api')
    assert results.attempt('kiln-build-x', outcome, pod) == dict(
        pod_name='kiln-build-x', node='kiln-node', reason='EvictionByEvictionAPI',
        message='the pod was evicted from node kiln-node through the Eviction API (kubectl drain, the cluster '
                'autoscaler): Eviction API: evicting')
    failed = load_fixture('recorded/failed_run_exit7.json')['pod']
    attempt = results.attempt('kiln-build-y', states.classify(failed), failed)
    assert attempt['reason'] == 'Error' and attempt['node'] == 'kiln-node'
    assert attempt['message'].endswith('exit status 7')  # the last line of Kaniko's words
    assert results.attempt('kiln-build-z', states.deleted(), None) == dict(
        pod_name='kiln-build-z', node=None, reason='Deleted', message='the pod was deleted by someone else')


def test_a_lost_pod_is_deleted_at_once_unless_its_kubelet_ended_it():
    spec = make_spec(keep_pod='always')
    for name in ('recorded/evicted_by_api', 'recorded/node_deleted', 'recorded/preempted', 'recorded/taint_evicted',
                 'recorded/node_lost_marked', 'recorded/drained'):  # drained: Failed, but by the drain
        outcome, pod = lost(name)
        assert results.retention(spec, outcome, pod) == results.Retention(keep=False, delete=True, running=True), name
    outcome, pod = lost('handwritten_node_shutdown')  # Failed by its kubelet, which still answers: kept as a failure is
    assert results.retention(spec, outcome, pod) == results.Retention(keep=True, delete=False, running=False)


def test_the_line_of_a_build_that_runs_again():
    outcome, pod = lost('recorded/evicted_by_api')
    spec = dataclasses.replace(make_spec(retries=2), attempt=2, avoid_nodes=('kiln-node',))
    assert results.retry_line(results.attempt('kiln-build-x', outcome, pod), spec) == (
        'pod kiln-build-x was lost (EvictionByEvictionAPI): the pod was evicted from node kiln-node through the '
        'Eviction API (kubectl drain, the cluster autoscaler): Eviction API: evicting; running the build again as a '
        'new pod, attempt 2 of 3, kept off node kiln-node')
