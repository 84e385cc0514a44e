# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The unsigned SBOM (option sbom without sign), attached by the module as an OCI artifact that refers to the image.

syft writes the SBOM in the build pod; the module reads it out of the attach container through exec
(run/lifecycle.py) and, with the registry client and the credentials it reads the registry with, stores it in
every destination's repository: a manifest with ``subject`` (the image) and ``artifactType`` (the format's media
type, supply/steps.FORMATS), the SBOM its one layer (_registry/referrers.attach). A registry with the referrers API
lists it there; on one without (distribution 2.8 and 3.1), it is added to the index under the fallback tag
``sha256-<hex>``, where cosign 3, regctl and oras look too.
"""

from __future__ import annotations

from typing import cast

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import (
    LookupUnavailable,
    RegistryLookup,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import check, steps
from ansible_collections.kiln.kaniko.plugins.module_utils._registry import referrers
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import RegistryError

# The option's name of the format, beside the media type. No time stamp: the same SBOM is the same artifact.
FORMAT_ANNOTATION = 'dev.kiln.kaniko.sbom.format'


def attach(spec: BuildSpec, lookup: RegistryLookup, digest: str, document: bytes) -> list[str]:
    """Store ``document`` (bytes) as the SBOM artifact of ``digest`` in each destination's repository; return
    ``<repository>@<artifact digest>`` for each. Raises KilnError naming option sbom."""
    sbom = cast(steps.Sbom, spec.sbom)  # a build with option sbom
    found = []
    for ref in steps.repository_refs(spec):
        try:
            attached = referrers.attach(lookup.client(spec, ref), ref.repository, digest, sbom.media_type, document,
                                        sbom.media_type, {FORMAT_ANNOTATION: sbom.format})
        except (RegistryError, LookupUnavailable) as exc:
            raise KilnError('sbom: could not attach the SBOM of {0} to {1}: {2}'.format(
                digest, ref.name, getattr(exc, 'message', exc))) from exc
        found.append('{0}@{1}'.format(ref.name, attached.digest))
    return found


def existing(spec: BuildSpec, lookup: RegistryLookup, digest: str) -> list[str]:
    """Where each destination's repository holds the unsigned SBOM of ``digest`` already: the artifact that refers
    to it (``<repository>@<digest>``), else cosign's ``.sbom`` tag (``<repository>:<tag>``). Raises KilnError."""
    sbom = cast(steps.Sbom, spec.sbom)  # a build with option sbom
    found = []
    for ref in steps.repository_refs(spec):
        try:
            client = lookup.client(spec, ref)
            artifacts = check.sbom_artifacts(client, ref, digest, sbom.format)
            if artifacts:
                found.append('{0}@{1}'.format(ref.name, artifacts[0].digest))
            elif check.attached(client, ref, digest, sbom.format):
                found.append('{0}:{1}'.format(ref.name, steps.tag_for(digest, 'sbom')))
        except (RegistryError, LookupUnavailable) as exc:
            raise KilnError('sbom: could not read where the SBOM of {0} is in {1}: {2}'.format(
                digest, ref.name, getattr(exc, 'message', exc))) from exc
    return found
