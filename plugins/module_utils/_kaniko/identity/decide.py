# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Decide, before any pod exists, whether a build must run: commit -> build key -> registry.

The steps' I/O is injected (a RemoteResolver and a RegistryLookup); the decision is
build_key.decide(). Whatever stops a step (no git on the module host, a repository or registry
it cannot reach, a Secret it may not read) leads to a build, with the reason in the Decision.
A local context needs no resolver: its packed tar's sha256 (in spec.local) stands for the commit.
A build to tarball.dest is compared with what that file holds instead of a registry.
"""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import tarball
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.build_key import (
    FORCED,
    UNAVAILABLE,
    Decision,
    build_key,
    decide,
    decide_tarball,
    source_text,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.commit import Unresolved
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import LookupUnavailable


def identify(spec, resolver, lookup, read_tarball=tarball.read):
    """The Decision for ``spec`` (a BuildSpec)."""
    if spec.local:
        commit = None
    else:
        try:
            commit = resolver.resolve(spec.namespace, spec.git)
        except Unresolved as exc:
            return Decision(UNAVAILABLE, 'git.version could not be resolved to a commit on the module host: {0}'.format(exc))
    key = build_key(spec, commit)
    if spec.force:
        return Decision(FORCED, 'force is true', commit, key)
    if spec.tarball:
        if spec.tarball.pvc:
            return Decision(UNAVAILABLE, 'the module host cannot look into tarball.pvc', commit, key)
        return decide_tarball(key, commit, read_tarball(spec.tarball.dest), spec.tarball.dest, source_text(spec, commit))
    if not spec.push or not spec.destinations:
        return Decision(UNAVAILABLE, 'push is false: there is no image in a registry to compare with', commit, key)
    try:
        existing = [lookup.existing(spec, destination, ref)
                    for destination, ref in zip(spec.destinations, spec.destination_refs)]
    except LookupUnavailable as exc:
        return Decision(UNAVAILABLE, str(exc), commit, key)
    return decide(key, commit, existing, source_text(spec, commit))
