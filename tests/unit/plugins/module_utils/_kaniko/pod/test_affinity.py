# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The affinity of a pod that keeps off the nodes lost under its build's earlier pods (pod/affinity.py)."""

from __future__ import annotations

import copy

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import affinity

NOT_IN = {'key': 'metadata.name', 'operator': 'NotIn', 'values': ['worker-2']}


def test_nothing_to_keep_off_leaves_the_users_affinity():
    assert affinity.keep_off(None, ()) is None
    users = {'podAntiAffinity': {'preferredDuringSchedulingIgnoredDuringExecution': []}}
    assert affinity.keep_off(users, ()) == users


def test_without_an_affinity_one_term_holds_the_requirement():
    assert affinity.keep_off(None, ['worker-2']) == {'nodeAffinity': {
        'requiredDuringSchedulingIgnoredDuringExecution': {'nodeSelectorTerms': [{'matchFields': [NOT_IN]}]}}}


def test_every_term_of_the_user_gets_it_and_the_rest_stays():
    users = {
        'nodeAffinity': {
            'requiredDuringSchedulingIgnoredDuringExecution': {'nodeSelectorTerms': [
                {'matchExpressions': [{'key': 'pool', 'operator': 'In', 'values': ['a']}]},
                {'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': ['worker-2', 'worker-3']}]},
            ]},
            'preferredDuringSchedulingIgnoredDuringExecution': [{'weight': 1, 'preference': {}}],
        },
        'podAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': []},
    }
    before = copy.deepcopy(users)
    merged = affinity.keep_off(users, ['worker-2'])
    assert users == before
    terms = merged['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution']['nodeSelectorTerms']
    assert terms == [
        {'matchExpressions': [{'key': 'pool', 'operator': 'In', 'values': ['a']}], 'matchFields': [NOT_IN]},
        {'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': ['worker-2', 'worker-3']}, NOT_IN]},
    ]
    assert merged['nodeAffinity']['preferredDuringSchedulingIgnoredDuringExecution'] == [
        {'weight': 1, 'preference': {}}]
    assert merged['podAffinity'] == users['podAffinity']
