# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether the registry holds what sign and sbom add to an image, made with sign.key_secret's key.

For a build the registry holds already (the skip), each is looked for in the two ways cosign stores it and in
the one the collection writes (docs/security.md, "Signatures, attestations and SBOMs in the registry"):

- cosign's legacy tags of the image's repository (what cosign 2 writes, and what the collection has either major
  write): ``sha256-<hex>.sig``, a layer whose simple-signing payload names this digest and whose signature
  verifies with cosign.pub; ``.att``, a DSSE envelope of an in-toto statement about this digest with sbom.format's
  predicate type, its signature verifying over DSSE's pre-authentication encoding; ``.sbom``, a layer of the
  format's media type (``cosign attach sbom``, before this collection wrote SBOMs itself);
- OCI 1.1 referrers (the registry's referrers API, else the fallback tag ``sha256-<hex>``, _registry/referrers.py):
  cosign 3's Sigstore bundles (artifactType application/vnd.dev.sigstore.bundle.v0.3+json), whose DSSE envelope
  is checked as an ``.att`` layer is (a signature is the statement of predicate type
  https://sigstore.dev/cosign/sign/v1), and the unsigned SBOM the collection attaches (supply/attach.py), an
  artifact of the format's media type whose layer is the SBOM.

These are the formats cosign writes and ``cosign verify`` and ``cosign verify-attestation`` read (pkg/cosign,
pkg/oci/static, pkg/types in sigstore/cosign; fixtures/cosign_v*.json hold what v2.6.5 and v3.1.3 wrote).
Verifying needs the cryptography library, which ansible-core itself depends on; without it a signature that
is there counts, unverified, and the module warns.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any, Callable, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.identity.lookup import (
    LookupUnavailable,
    RegistryLookup,
)
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.supply import steps
from ansible_collections.kiln.kaniko.plugins.module_utils._registry import referrers
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import RegistryError
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import ImageReference

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.asymmetric import padding
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json'
SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature'
DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json'
PREDICATE_ANNOTATION = 'predicateType'
# cosign 3's Sigstore bundles as OCI referrers (pkg/oci/remote in sigstore/cosign v3), and what it signs.
BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json'
BUNDLE_PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType'
SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1'
# cosign attach sbom's media types for --input-format json (pkg/types in sigstore/cosign).
SBOM_MEDIA_TYPES = {'spdx-json': 'text/spdx+json', 'cyclonedx-json': 'application/vnd.cyclonedx+json'}


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding of ``payload`` (bytes): what an envelope's signatures sign."""
    kind = payload_type.encode('utf-8')
    return b'DSSEv1 %d %s %d %s' % (len(kind), kind, len(payload), payload)


def verify(public_key_pem: str | None, signature: bytes, data: bytes) -> bool | None:
    """True when ``signature`` (bytes) is the signature of ``data`` by the key of ``public_key_pem``; False when it
    is not; None when it cannot be told (no cryptography, or a key of a kind cosign does not make)."""
    if not HAS_CRYPTOGRAPHY or not public_key_pem:
        return None
    try:
        key = serialization.load_pem_public_key(public_key_pem.encode('utf-8'))
    except (ValueError, TypeError):
        return None
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return None
    except InvalidSignature:
        return False
    return True


def _b64(text: str | None) -> bytes:
    try:
        return base64.b64decode(text or '', validate=True)
    except (ValueError, TypeError):
        return b''


def _layers(client: RegistryClient, ref: ImageReference, digest: str, suffix: str) -> list[Any]:
    """The layers of the manifest cosign keeps under ``sha256-<hex>.<suffix>``, or []."""
    fetched = client.get_manifest(ref.repository, steps.tag_for(digest, suffix))
    if fetched is None:
        return []
    try:
        return json.loads(fetched[0]).get('layers') or []
    except (ValueError, AttributeError):
        return []


def _verified(result: bool | None, unverified: list[bool]) -> bool:
    if result is None:
        unverified.append(True)
        return True
    return result


def _legacy_signed(client: RegistryClient, ref: ImageReference, digest: str, public_key: str | None,
                   unverified: list[bool]) -> bool:
    for layer in _layers(client, ref, digest, 'sig'):
        annotations = layer.get('annotations') or {}
        if layer.get('mediaType') != SIMPLE_SIGNING or SIGNATURE_ANNOTATION not in annotations:
            continue
        payload = client.get_blob(ref.repository, layer.get('digest'))
        try:
            named = json.loads(payload)['critical']['image']['docker-manifest-digest']
        except (ValueError, KeyError, TypeError):
            continue
        if named == digest and _verified(verify(public_key, _b64(annotations[SIGNATURE_ANNOTATION]), payload),
                                         unverified):
            return True
    return False


def _legacy_envelopes(client: RegistryClient, ref: ImageReference, digest: str, predicate_type: str) -> list[Any]:
    """The DSSE envelopes of the ``.att`` layers that claim ``predicate_type`` about ``digest``."""
    found = []
    for layer in _layers(client, ref, digest, 'att'):
        if layer.get('mediaType') == DSSE_ENVELOPE and \
                (layer.get('annotations') or {}).get(PREDICATE_ANNOTATION) == predicate_type:
            found.append(_json(client.get_blob(ref.repository, layer.get('digest'))))
    return [envelope for envelope in found if isinstance(envelope, dict)]


def _bundle_envelopes(client: RegistryClient, ref: ImageReference, digest: str, predicate_type: str) -> list[Any]:
    """The DSSE envelopes of the cosign 3 bundles that refer to ``digest`` and claim ``predicate_type``."""
    found = []
    for artifact in referrers.artifacts(client, ref.repository, digest, (BUNDLE,)):
        annotations = artifact.manifest.get('annotations') or {}
        if annotations.get(BUNDLE_PREDICATE_ANNOTATION) not in (None, predicate_type):
            continue
        for layer in artifact.manifest.get('layers') or []:
            if isinstance(layer, dict) and layer.get('mediaType') == BUNDLE:
                bundle = _json(client.get_blob(ref.repository, str(layer.get('digest'))))
                found.append(bundle.get('dsseEnvelope') if isinstance(bundle, dict) else None)
    return [envelope for envelope in found if isinstance(envelope, dict)]


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _statement(envelope: Any, digest: str, predicate_type: str) -> tuple[Any, bytes] | None:
    """(statement, payload) of ``envelope`` when it is an in-toto statement of ``predicate_type`` about
    ``digest``, else None."""
    try:
        payload = _b64(envelope['payload'])
        statement = json.loads(payload)
        subjects = [subject['digest'].get('sha256') for subject in statement.get('subject') or []]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if statement.get('predicateType') != predicate_type or digest.split(':', 1)[-1] not in subjects:
        return None
    return statement, payload


def _signed_envelope(envelope: Any, digest: str, predicate_type: str, public_key: str | None,
                     unverified: list[bool]) -> bool:
    found = _statement(envelope, digest, predicate_type)
    if found is None:
        return False
    try:
        payload_type = envelope['payloadType']
        signatures = [_b64(item.get('sig')) for item in envelope.get('signatures') or []]
    except (KeyError, TypeError, AttributeError):
        return False
    return any(_verified(verify(public_key, sig, pae(payload_type, found[1])), unverified) for sig in signatures)


def signed(client: RegistryClient, ref: ImageReference, digest: str, public_key: str | None,
           unverified: list[bool]) -> bool:
    """True when a signature of ``digest`` by ``public_key`` is stored with ``ref``'s repository: cosign's ``.sig``
    tag, or a cosign 3 bundle that refers to it."""
    if _legacy_signed(client, ref, digest, public_key, unverified):
        return True
    return any(_signed_envelope(envelope, digest, SIGN_PREDICATE, public_key, unverified)
               for envelope in _bundle_envelopes(client, ref, digest, SIGN_PREDICATE))


def attested(client: RegistryClient, ref: ImageReference, digest: str, public_key: str | None, predicate_type: str,
             unverified: list[bool]) -> bool:
    """True when a signed attestation of ``predicate_type`` about ``digest`` is stored with ``ref``'s repository: under
    cosign's ``.att`` tag (asked first: what the collection writes), or as a cosign 3 bundle that refers to it."""
    for envelopes in (_legacy_envelopes, _bundle_envelopes):
        if any(_signed_envelope(envelope, digest, predicate_type, public_key, unverified)
               for envelope in envelopes(client, ref, digest, predicate_type)):
            return True
    return False


def sbom_artifacts(client: RegistryClient, ref: ImageReference, digest: str,
                   sbom_format: str) -> list[referrers.Artifact]:
    """The unsigned SBOMs of ``sbom_format`` that refer to ``digest`` as OCI artifacts (supply/attach.py)."""
    types = (steps.FORMATS[sbom_format][3], SBOM_MEDIA_TYPES[sbom_format])
    return [artifact for artifact in referrers.artifacts(client, ref.repository, digest, types)
            if any(isinstance(layer, dict) and layer.get('mediaType') in types
                   for layer in artifact.manifest.get('layers') or [])]


def attached(client: RegistryClient, ref: ImageReference, digest: str, sbom_format: str) -> bool:
    """True when an SBOM of ``sbom_format`` is attached (unsigned) to ``digest`` in ``ref``'s repository: as an OCI
    artifact that refers to it, or under cosign's ``.sbom`` tag."""
    if any(layer.get('mediaType') == SBOM_MEDIA_TYPES[sbom_format]
           for layer in _layers(client, ref, digest, 'sbom')):
        return True
    return bool(sbom_artifacts(client, ref, digest, sbom_format))


def missing(spec: BuildSpec, lookup: RegistryLookup, digest: str, public_key: str | None,
            warn: Callable[[str], None] | None = None) -> tuple[bool, bool]:
    """(sign, attest): whether the signature and the SBOM that ``spec`` asks for are missing for ``digest`` in
    any of its repositories. A registry that cannot be asked counts as lacking them (they are made again)."""
    need_sign = need_attest = False
    unverified: list[bool] = []
    for ref in steps.repository_refs(spec):
        try:
            client = lookup.client(spec, ref)
            if spec.sign and not need_sign:
                need_sign = not signed(client, ref, digest, public_key, unverified)
            if spec.sbom and not need_attest:
                if spec.sign:
                    need_attest = not attested(client, ref, digest, public_key, spec.sbom.predicate_type, unverified)
                else:
                    need_attest = not attached(client, ref, digest, spec.sbom.format)
        except (RegistryError, LookupUnavailable):
            return bool(spec.sign), bool(spec.sbom)
    if unverified and warn is not None:
        why = ('the Python library cryptography is missing on the host that runs the module' if not HAS_CRYPTOGRAPHY
               else 'cosign.pub of sign.key_secret could not be read, or holds a key of a kind cosign does not make')
        warn('Took the signatures in the registry as made with the key of sign.key_secret without verifying '
             'them: ' + why)
    return need_sign, need_attest


def sbom_document(spec: BuildSpec, lookup: RegistryLookup, digest: str) -> bytes | None:
    """The SBOM of ``digest`` as the registry holds it (bytes): the predicate of the signed attestation, or the
    attached file; None when it is not there."""
    sbom = cast(steps.Sbom, spec.sbom)  # a build with option sbom
    ref = spec.destination_refs[0]
    client = lookup.client(spec, ref)
    if spec.sign:
        for envelopes in (_legacy_envelopes, _bundle_envelopes):
            for envelope in envelopes(client, ref, digest, sbom.predicate_type):
                found = _statement(envelope, digest, sbom.predicate_type)
                if found is not None:
                    return (json.dumps(found[0].get('predicate'), indent=1, sort_keys=True) + '\n').encode('utf-8')
        return None
    for artifact in sbom_artifacts(client, ref, digest, sbom.format):
        for layer in artifact.manifest.get('layers') or []:
            return client.get_blob(ref.repository, layer.get('digest'))
    for layer in _layers(client, ref, digest, 'sbom'):
        if layer.get('mediaType') == SBOM_MEDIA_TYPES[sbom.format]:
            return client.get_blob(ref.repository, layer.get('digest'))
    return None


def write_sbom(spec: BuildSpec, lookup: RegistryLookup, digest: str) -> tuple[bool, str]:
    """Write the SBOM of ``digest`` to sbom.dest; return (changed, sha256 hex), or raise KilnError naming sbom.dest."""
    try:
        document = sbom_document(spec, lookup, digest)
    except (RegistryError, LookupUnavailable, ValueError) as exc:
        raise ValidationError('sbom.dest', 'could not read the SBOM of {0} from the registry: {1}'.format(
            digest, getattr(exc, 'message', exc))) from exc
    if document is None:
        raise ValidationError('sbom.dest', 'the registry holds no SBOM of {0} to write; run the build again to '
                                           'add it'.format(digest))
    sha256 = hashlib.sha256(document).hexdigest()
    dest = cast(str, cast(steps.Sbom, spec.sbom).dest)  # a build with sbom.dest
    if os.path.isfile(dest):
        with open(dest, 'rb') as handle:
            if hashlib.sha256(handle.read()).hexdigest() == sha256:
                return False, sha256
    partial = dest + '.kiln-partial'
    with open(partial, 'wb') as handle:
        handle.write(document)
    os.rename(partial, dest)
    return True, sha256
