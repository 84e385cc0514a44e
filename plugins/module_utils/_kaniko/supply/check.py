# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether the registry holds what sign and sbom add to an image, made with sign.key_secret's key.

For a build the registry holds already (the skip): the signature under ``<repository>:sha256-<hex>.sig``
must have a layer whose simple-signing payload names this digest and whose signature verifies with
cosign.pub; the SBOM, signed, under ``.att``, a DSSE envelope of an in-toto statement about this digest
with sbom.format's predicate type, its signature verifying over DSSE's pre-authentication encoding;
unsigned, under ``.sbom``, a layer of the format's media type. These are the formats cosign writes and
``cosign verify`` and ``cosign verify-attestation`` read (pkg/cosign, pkg/oci/static, pkg/types in
sigstore/cosign). Verifying needs the cryptography library, which ansible-core itself depends on; without
it a signature that is there counts, unverified, and the module warns.
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


def signed(client: RegistryClient, ref: ImageReference, digest: str, public_key: str | None,
           unverified: list[bool]) -> bool:
    """True when a signature of ``digest`` by ``public_key`` is stored with ``ref``'s repository."""
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


def attested(client: RegistryClient, ref: ImageReference, digest: str, public_key: str | None, predicate_type: str,
             unverified: list[bool]) -> bool:
    """True when a signed attestation of ``predicate_type`` about ``digest`` is stored with ``ref``'s repository."""
    hex_digest = digest.split(':', 1)[-1]
    for layer in _layers(client, ref, digest, 'att'):
        if layer.get('mediaType') != DSSE_ENVELOPE or \
                (layer.get('annotations') or {}).get(PREDICATE_ANNOTATION) != predicate_type:
            continue
        try:
            envelope = json.loads(client.get_blob(ref.repository, layer.get('digest')))
            payload = _b64(envelope['payload'])
            statement = json.loads(payload)
            subjects = [subject['digest'].get('sha256') for subject in statement.get('subject') or []]
            payload_type = envelope['payloadType']
            signatures = [_b64(item.get('sig')) for item in envelope.get('signatures') or []]
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if statement.get('predicateType') != predicate_type or hex_digest not in subjects:
            continue
        if any(_verified(verify(public_key, sig, pae(payload_type, payload)), unverified) for sig in signatures):
            return True
    return False


def attached(client: RegistryClient, ref: ImageReference, digest: str, sbom_format: str) -> bool:
    """True when an SBOM of ``sbom_format`` is attached (unsigned) to ``digest`` in ``ref``'s repository."""
    return any(layer.get('mediaType') == SBOM_MEDIA_TYPES[sbom_format]
               for layer in _layers(client, ref, digest, 'sbom'))


def missing(spec: BuildSpec, lookup: RegistryLookup, digest: str, public_key: str | None,
            warn: Callable[[str], None] | None = None) -> tuple[bool, bool]:
    """(sign, attest): whether the signature and the SBOM that ``spec`` asks for are missing for ``digest`` in
    any of its repositories. A registry that cannot be asked counts as lacking them (they are made again)."""
    need_sign = need_attest = False
    unverified: list[bool] = []
    seen: set[str] = set()
    for ref in spec.destination_refs:
        if ref.name in seen:
            continue
        seen.add(ref.name)
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
        for layer in _layers(client, ref, digest, 'att'):
            if (layer.get('annotations') or {}).get(PREDICATE_ANNOTATION) != sbom.predicate_type:
                continue
            envelope = json.loads(client.get_blob(ref.repository, layer.get('digest')))
            statement = json.loads(_b64(envelope.get('payload')))
            return (json.dumps(statement.get('predicate'), indent=1, sort_keys=True) + '\n').encode('utf-8')
        return None
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
