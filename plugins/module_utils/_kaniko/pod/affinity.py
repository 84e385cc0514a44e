# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A build pod's affinity, with the nodes it must keep off added to the user's: pure, dict in, dict out.

A build that runs again after its pod was lost (pod/disruption.py) keeps off the nodes that were lost: one more
requirement of its required node affinity, on the node's name (``matchFields``, ``metadata.name NotIn``, which
names the node itself, whatever its labels). The scheduler ANDs the requirements of a term and ORs the terms:
each of the user's terms gets it, and without any, one term holds it alone.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

REQUIRED = 'requiredDuringSchedulingIgnoredDuringExecution'


def keep_off(affinity: Mapping[str, Any] | None, nodes: Sequence[str]) -> dict[str, Any] | None:
    """A copy of ``affinity`` (a pod's spec.affinity, or None) that keeps the pod off ``nodes``."""
    merged: dict[str, Any] = json.loads(json.dumps(affinity or {}))
    if not nodes:
        return merged or None
    requirement = {'key': 'metadata.name', 'operator': 'NotIn', 'values': list(nodes)}
    required = merged.setdefault('nodeAffinity', {}).setdefault(REQUIRED, {})
    terms = required.get('nodeSelectorTerms') or [{}]
    required['nodeSelectorTerms'] = [dict(term, matchFields=list(term.get('matchFields') or []) + [requirement])
                                     for term in terms]
    return merged
