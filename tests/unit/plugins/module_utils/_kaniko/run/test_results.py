# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The result policy: a build's result and its failure as the module reports them (a signed build, an image left
unsigned), and an item of builds described."""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import states
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import results
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.pod.test_states import DONE, KANIKO_DONE, _pod
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.supply.test_steps import DIGEST, supply_spec


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
    unsigned = results.succeeded(supply_spec(sign=None), {}, pod, False)
    assert unsigned['signed'] is False and 'signatures' not in unsigned
    assert unsigned['sbom']['references'][0].endswith('.sbom')
