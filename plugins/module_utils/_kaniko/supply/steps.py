# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Options sign and sbom: the steps after Kaniko in the build pod. Pure: checks, containers, names.

With either option Kaniko becomes an init container, and after it run, in order:

- ``sbom`` (syft_image): ``syft scan`` of the pushed image by digest, into the shared ``supply`` volume;
- ``sign`` (cosign_image): ``cosign sign`` of every destination's repository by digest with the key of
  Secret sign.key_secret, then, with sbom, ``cosign attest`` of the SBOM as a signed in-toto attestation;
- or, for sbom without sign, ``attach`` (syft_image) beside ``sbom``: it holds the SBOM until the module has
  read it through exec (pods/exec, as a tarball is brought out) and attached it with its own registry client as
  an OCI artifact that refers to the image (supply/attach.py), then ends. The SBOM is not secret; the
  registry credentials the module pushes it with are those it reads the registry with anyway, and never enter
  the pod beyond what Kaniko already mounts.

They find the digest in the file Kaniko writes with --digest-file (or, in a pod that only signs an image the
registry already holds, in KILN_DIGEST). cosign stores signatures and attestations under its legacy tags of the
image's repository, ``sha256-<hex>.sig`` and ``.att``, with either major: cosign 3 is told so
(``--new-bundle-format=false --use-signing-config=false``, flags cosign 2.6 takes too), because cosign 2 cannot
verify cosign 3's Sigstore bundles with a key alone, while cosign 3 verifies the legacy tags (docs/security.md).
supply/check.py reads back both forms, and the SBOM artifact.

The key stays in the cluster: cosign.key is a file of a Secret volume, cosign.password reaches cosign as
COSIGN_PASSWORD through a secretKeyRef (the pod spec holds only the reference), and the module reads only
cosign.pub. Nothing is uploaded to a transparency log (--tlog-upload=false): the offline clusters this
collection serves have none; verify with ``cosign verify --key cosign.pub --insecure-ignore-tlog=true``.
Keyless signing (an OIDC token, Fulcio and Rekor) would be another member of sign beside key_secret.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import grammar
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import ImageReference

# A BuildSpec. spec/model.py imports the option types below (Signing, Sbom, SupplyOnly), and the layer rules
# allow no import cycle, not even one for types alone: moving those types into spec/model.py, as BuildSecret
# is, would let this module name BuildSpec itself.
Spec = Any

SBOM = 'sbom'
SIGN = 'sign'
ATTACH = 'attach'
SUPPLY_VOLUME = 'supply'
SUPPLY_DIR = '/kiln/supply'
DIGEST_FILE = SUPPLY_DIR + '/digest'
SBOM_FILE = SUPPLY_DIR + '/sbom.json'
COSIGN_VOLUME = 'cosign-key'
COSIGN_DIR = '/kiln/cosign'
DOCKER_DIR = '/kiln/docker'
CA_DIR = '/kiln/ca'
SYSTEM_CERTS = '/etc/ssl/certs'
# The keys of the Secret that `cosign generate-key-pair k8s://<namespace>/<name>` writes.
KEY = 'cosign.key'
PASSWORD = 'cosign.password'
PUBLIC_KEY = 'cosign.pub'
KEYS = (KEY, PASSWORD, PUBLIC_KEY)
# syft and cosign run as this user, without capabilities, on a read-only root file system.
SUPPLY_UID = 65532

# The attach container ends once this file exists; the module's exec makes it after reading the SBOM.
RELEASED = SUPPLY_DIR + '/released'

# sbom.format -> (cosign attest --type, the attestation's predicateType, cosign attach sbom --type, the media type
# of the unsigned SBOM's artifact and layer: IANA's application/spdx+json, CycloneDX's own).
FORMATS = {
    'spdx-json': ('spdxjson', 'https://spdx.dev/Document', 'spdx', 'application/spdx+json'),
    'cyclonedx-json': ('cyclonedx', 'https://cyclonedx.org/bom', 'cyclonedx', 'application/vnd.cyclonedx+json'),
}


@dataclass(frozen=True)
class Signing:
    """Option sign: the Secret that holds the key pair, in cosign's layout (KEYS)."""
    key_secret: str


@dataclass(frozen=True)
class Sbom:
    """Option sbom: the SBOM's format, and the file on the module's host it is also written to."""
    format: str
    dest: Optional[str] = None

    @property
    def attestation_type(self) -> str:
        return FORMATS[self.format][0]

    @property
    def predicate_type(self) -> str:
        return FORMATS[self.format][1]

    @property
    def media_type(self) -> str:
        return FORMATS[self.format][3]


@dataclass(frozen=True)
class SupplyOnly:
    """A pod without clone and Kaniko, for an image the registry holds already: only the steps it lacks."""
    digest: str
    images: Tuple[str, ...]
    sign: bool
    attest: bool
    steps: Tuple[str, ...] = ()


def check(params: Mapping[str, Any], push: bool, tarball: object,
          platforms: Sequence[str] = ()) -> tuple[Signing | None, Sbom | None]:
    """(Signing or None, Sbom or None) from options sign and sbom; raises ValidationError."""
    sign, sbom = params.get('sign'), params.get('sbom')
    signing = None
    if sign is not None:
        name = sign.get('key_secret')
        if not name:
            raise ValidationError('sign.key_secret', 'is required: the Secret that holds cosign.key, cosign.password '
                                                     'and cosign.pub (cosign generate-key-pair k8s://<namespace>/<name>)')
        problem = grammar.dns_subdomain_problem(name)
        if problem:
            raise ValidationError('sign.key_secret', "'{0}': {1}".format(name, problem))
        signing = Signing(key_secret=name)
    found = None
    if sbom is not None:
        found = Sbom(format=sbom.get('format') or 'spdx-json', dest=sbom.get('dest'))
        if found.format not in FORMATS:
            raise ValidationError('sbom.format', "'{0}' is not one of {1}".format(found.format, ', '.join(FORMATS)))
        if found.dest and platforms:
            raise ValidationError('sbom.dest', 'one file cannot hold the SBOMs of several platforms; leave sbom.dest '
                                               'out with platforms (the registry keeps each platform\'s SBOM), or '
                                               'build each platform with platform and a file of its own')
    for option, value in (('sign', signing), ('sbom', found)):
        if value is None:
            continue
        if tarball:
            raise ValidationError(option, 'works on a pushed image, and a tarball build pushes none; leave {0} out, '
                                          'or push to destinations instead of tarball'.format(option))
        if not push:
            raise ValidationError(option, 'works on a pushed image; leave push true, or leave {0} out'.format(option))
    return signing, found


def wanted(spec: Spec) -> bool:
    """True when the build has steps after Kaniko."""
    return bool(spec.sign or spec.sbom)


def hands_over(spec: Spec) -> bool:
    """True when the pod holds an unsigned SBOM for the module to attach (sbom without sign)."""
    only = spec.supply_only
    return bool(spec.sbom and not spec.sign and (only is None or only.attest))


def steps(spec: Spec) -> tuple[str, ...]:
    """The names of the supply containers of ``spec``'s pod, in the order they run."""
    only = spec.supply_only
    if only is not None:
        return only.steps
    names = []
    if spec.sbom:
        names.append(SBOM)
    names.append(SIGN if spec.sign else ATTACH)
    return tuple(names)  # ATTACH runs beside SBOM (place)


def supply_only(spec: Spec, digest: str, images: Iterable[str], sign: bool, attest: bool) -> SupplyOnly:
    """The SupplyOnly of a pod that adds to an image the registry holds its signature (``sign``) and/or its
    SBOM (``attest``), and nothing else."""
    names = [SBOM] if attest else []
    names.append(SIGN if spec.sign else ATTACH)
    return SupplyOnly(digest=digest, images=tuple(images), sign=sign, attest=attest, steps=tuple(names))


def repository_refs(spec: Spec) -> list[ImageReference]:
    """The first destination (an ImageReference) of each repository the build pushes to, in their order."""
    seen: set[str] = set()
    refs = []
    for destination in spec.destination_refs:
        if destination.name not in seen:
            seen.add(destination.name)
            refs.append(destination)
    return refs


def repositories(spec: Spec) -> list[str]:
    """The repositories the build pushes to, each once, in the order of destinations."""
    return [ref.name for ref in repository_refs(spec)]


def tag_for(digest: str, suffix: str) -> str:
    """The tag cosign gives what it attaches to ``digest``: sha256-<hex>.sig, .att or .sbom."""
    return '{0}.{1}'.format(digest.replace(':', '-'), suffix)


def references(spec: Spec, digest: str) -> dict[str, Any]:
    """The result keys that say where the signature, the attestation and the SBOM are, for ``digest``."""
    result: dict[str, Any] = {}
    names = repositories(spec)
    if spec.sign:
        result['signatures'] = ['{0}:{1}'.format(name, tag_for(digest, 'sig')) for name in names]
    if spec.sbom:
        # The unsigned SBOM's artifact has a digest of its own, which supply/attach.py fills in.
        result['sbom'] = dict(format=spec.sbom.format, dest=spec.sbom.dest,
                              predicate_type=spec.sbom.predicate_type if spec.sign else None,
                              media_type=None if spec.sign else spec.sbom.media_type,
                              references=['{0}:{1}'.format(name, tag_for(digest, 'att')) for name in names]
                              if spec.sign else [])
        if spec.sign:
            result['attestations'] = list(result['sbom']['references'])
    return result


# ---------------------------------------------------------------- the scripts

# $1: the repository syft reads the image from. The digest: KILN_DIGEST, else Kaniko's digest file.
SBOM_SCRIPT = r'''set -eu
digest=${KILN_DIGEST:-$(cat "$KILN_DIGEST_FILE")}
mkdir -p "$HOME" "$TMPDIR"
echo "kiln sbom: syft scan $1@$digest ($KILN_SBOM_FORMAT)"
syft scan "registry:$1@$digest" -o "$KILN_SBOM_FORMAT=$KILN_SBOM_FILE"
echo "kiln sbom: $(wc -c <"$KILN_SBOM_FILE") bytes"
'''

# $@: the repositories to sign in. KILN_STEPS: sign and attest, as needed. KILN_COSIGN_FLAGS is split into words on
# purpose (it holds flags only, and no file name patterns). The first three flags keep cosign 3 to cosign's legacy
# tags and without a transparency log (cosign 3 refuses --tlog-upload=false alone: "not supported with
# --signing-config or --use-signing-config"); cosign 2.6 takes them as they are.
COSIGN_SCRIPT = r'''# shellcheck disable=SC2086
set -euf
digest=${KILN_DIGEST:-$(cat "$KILN_DIGEST_FILE")}
mkdir -p "$HOME" "$TMPDIR"
legacy="--new-bundle-format=false --use-signing-config=false --tlog-upload=false"
for repo in "$@"; do
  for step in $KILN_STEPS; do
    echo "kiln $step: $repo@$digest"
    case $step in
      sign) cosign sign --yes --key "$KILN_COSIGN_KEY" $legacy $KILN_COSIGN_FLAGS "$repo@$digest" ;;
      attest) cosign attest --yes --key "$KILN_COSIGN_KEY" $legacy --type "$KILN_ATTESTATION_TYPE" \
        --predicate "$KILN_SBOM_FILE" $KILN_COSIGN_FLAGS "$repo@$digest" ;;
    esac
  done
done
'''

# Beside syft: hold the SBOM until the module has read it (an exec of HAND_OVER_EXEC), then end (RELEASE_EXEC).
# Bounded by the pod's activeDeadlineSeconds.
ATTACH_SCRIPT = r'''set -eu
until [ -e "$1" ]; do sleep 0.5; done
echo "kiln attach: released"
'''
# Run through exec in the attach container, the file as $1: its sha256, then (a second exec) its bytes.
SHA256_EXEC = 'sha256sum "$1" | cut -d " " -f 1'
HAND_OVER_EXEC = 'exec cat "$1"'
RELEASE_EXEC = 'touch "$1"'


# ---------------------------------------------------------------- the containers

def _registry_flags(spec: Spec) -> str:
    """cosign's registry flags: plain HTTP and unverified TLS, as the build pushes."""
    flags = []
    if spec.insecure or spec.insecure_registries:
        flags.append('--allow-http-registry')
    if spec.insecure or spec.skip_tls_verify or spec.insecure_registries:
        flags.append('--allow-insecure-registry')
    return ' '.join(flags)


def _env(spec: Spec, registry_secret: str | None) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {'name': 'HOME', 'value': SUPPLY_DIR + '/home'},
        {'name': 'TMPDIR', 'value': SUPPLY_DIR + '/tmp'},
        {'name': 'KILN_DIGEST_FILE', 'value': DIGEST_FILE},
        {'name': 'KILN_SBOM_FILE', 'value': SBOM_FILE},
    ]
    if spec.supply_only is not None:
        env.append({'name': 'KILN_DIGEST', 'value': spec.supply_only.digest})
    if registry_secret:
        env.append({'name': 'DOCKER_CONFIG', 'value': DOCKER_DIR})
    if spec.registry_ca:
        dirs = [SYSTEM_CERTS] + [posixpath.join(CA_DIR, str(index)) for index in range(len(spec.registry_ca))]
        env.append({'name': 'SSL_CERT_DIR', 'value': ':'.join(dirs)})
    return env


def _mounts(spec: Spec, registry_secret: str | None) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = [{'name': SUPPLY_VOLUME, 'mountPath': SUPPLY_DIR}]
    if registry_secret:
        mounts.append({'name': 'docker-config', 'mountPath': DOCKER_DIR, 'readOnly': True})
    mounts.extend({'name': 'registry-ca-{0}'.format(index), 'mountPath': posixpath.join(CA_DIR, str(index)),
                   'readOnly': True} for index in range(len(spec.registry_ca)))
    return mounts


def _container(spec: Spec, name: str, image: str, script: str, args: Iterable[str], env: list[dict[str, Any]],
               mounts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        'name': name,
        'image': image,
        'imagePullPolicy': spec.image_pull_policy,
        'command': ['sh', '-c', script, 'kiln'] + list(args),
        'env': env,
        'volumeMounts': mounts,
        'workingDir': SUPPLY_DIR,
        'securityContext': {
            'runAsNonRoot': True,
            'runAsUser': SUPPLY_UID,
            'runAsGroup': SUPPLY_UID,
            'allowPrivilegeEscalation': False,
            'readOnlyRootFilesystem': True,
            'capabilities': {'drop': ['ALL']},
        },
        'terminationMessagePolicy': 'FallbackToLogsOnError',
    }


def sbom_container(spec: Spec, registry_secret: str | None) -> dict[str, Any]:

    env = _env(spec, registry_secret) + [
        {'name': 'KILN_SBOM_FORMAT', 'value': spec.sbom.format},
        # Neither the image's own registry nor anything else is asked whether syft is up to date.
        {'name': 'SYFT_CHECK_FOR_APP_UPDATE', 'value': 'false'},
    ]
    if spec.insecure or spec.insecure_registries:
        env.append({'name': 'SYFT_REGISTRY_INSECURE_USE_HTTP', 'value': 'true'})
    if spec.insecure or spec.skip_tls_verify or spec.insecure_registries:
        env.append({'name': 'SYFT_REGISTRY_INSECURE_SKIP_TLS_VERIFY', 'value': 'true'})
    return _container(spec, SBOM, spec.syft_image, SBOM_SCRIPT, repositories(spec)[:1], env,
                      _mounts(spec, registry_secret))


def _cosign_steps(spec: Spec) -> list[str]:
    only = spec.supply_only
    sign = spec.sign is not None and (only is None or only.sign)
    attest = spec.sbom is not None and (only is None or only.attest)
    names = []
    if sign:
        names.append('sign')
    if attest and spec.sign:
        names.append('attest')
    return names


def cosign_container(spec: Spec, registry_secret: str | None) -> dict[str, Any]:
    env = _env(spec, registry_secret) + [
        {'name': 'KILN_STEPS', 'value': ' '.join(_cosign_steps(spec))},
        {'name': 'KILN_COSIGN_FLAGS', 'value': _registry_flags(spec)},
    ]
    mounts = _mounts(spec, registry_secret)
    if spec.sign:
        env.append({'name': 'KILN_COSIGN_KEY', 'value': posixpath.join(COSIGN_DIR, KEY)})
        env.append({'name': 'COSIGN_PASSWORD', 'valueFrom': {'secretKeyRef': {
            'name': spec.sign.key_secret, 'key': PASSWORD}}})
        mounts.append({'name': COSIGN_VOLUME, 'mountPath': COSIGN_DIR, 'readOnly': True})
    if spec.sbom:
        env.append({'name': 'KILN_ATTESTATION_TYPE', 'value': spec.sbom.attestation_type})
    return _container(spec, SIGN, spec.cosign_image, COSIGN_SCRIPT, repositories(spec), env, mounts)


def attach_container(spec: Spec) -> dict[str, Any]:
    """The container that holds the unsigned SBOM for the module (syft_image: its shell, and pulled already)."""
    return _container(spec, ATTACH, spec.syft_image, ATTACH_SCRIPT, [RELEASED],
                      [{'name': 'HOME', 'value': SUPPLY_DIR + '/home'}], [{'name': SUPPLY_VOLUME, 'mountPath': SUPPLY_DIR}])


def containers(spec: Spec, registry_secret: str | None) -> list[dict[str, Any]]:
    """The supply containers of the pod, in the order they run: every one but the last is an init container, but
    for attach, which runs beside sbom."""
    result = []
    for name in steps(spec):
        if name == SBOM:
            result.append(sbom_container(spec, registry_secret))
        elif name == ATTACH:
            result.append(attach_container(spec))
        else:
            result.append(cosign_container(spec, registry_secret))
    return result


def volumes(spec: Spec) -> list[dict[str, Any]]:
    """The supply volume (the digest file, the SBOM, HOME and TMPDIR of the tools) and the key's Secret."""
    result: list[dict[str, Any]] = [{'name': SUPPLY_VOLUME, 'emptyDir': {}}]
    if spec.sign:
        # cosign.key only: the password reaches cosign through its environment, cosign.pub is not needed.
        result.append({'name': COSIGN_VOLUME, 'secret': {
            'secretName': spec.sign.key_secret, 'items': [{'key': KEY, 'path': KEY}], 'defaultMode': 0o440}})
    return result


def _mounted(pod_spec: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for container in pod_spec['initContainers'] + pod_spec['containers']:
        names.update(mount['name'] for mount in container.get('volumeMounts') or ())
    return names


def place(spec: Spec, pod_spec: dict[str, Any], registry_secret: str | None) -> None:
    """Put the supply steps of ``spec`` into ``pod_spec`` (pod.render_pod's): Kaniko becomes an init container
    that also writes the digest into the supply volume, the steps follow it, the last one is the pod's
    container. A pod that only signs keeps no source and no Kaniko."""
    if not wanted(spec):
        return
    supply = containers(spec, registry_secret)
    last = 2 if hands_over(spec) else 1  # sbom and attach side by side, else the last step alone
    if spec.supply_only is not None:
        pod_spec['initContainers'] = supply[:-last]
    else:
        kaniko = pod_spec['containers'][0]
        kaniko['args'] = kaniko['args'] + ['--digest-file=' + DIGEST_FILE]
        kaniko['volumeMounts'] = kaniko['volumeMounts'] + [{'name': SUPPLY_VOLUME, 'mountPath': SUPPLY_DIR}]
        pod_spec['initContainers'] = pod_spec['initContainers'] + [kaniko] + supply[:-last]
    pod_spec['containers'] = supply[-last:]
    volumes_ = pod_spec['volumes'] + volumes(spec)
    used = _mounted(pod_spec)
    pod_spec['volumes'] = [volume for volume in volumes_ if volume['name'] in used]
