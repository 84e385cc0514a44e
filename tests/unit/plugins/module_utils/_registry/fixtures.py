# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Registry documents shaped like the ones distribution, Docker Hub and BuildKit serve."""

from __future__ import annotations

import json

from ansible_collections.kiln.kaniko.plugins.module_utils._registry.manifests import sha256_digest


def dump(doc):
    return json.dumps(doc, separators=(',', ':'), sort_keys=True).encode('utf-8')


CONFIG_AMD64 = dump({
    'architecture': 'amd64',
    'os': 'linux',
    'created': '2026-11-20T10:00:00Z',
    'config': {'Labels': {'org.opencontainers.image.revision': 'abc123', 'team': 'kiln'},
               'Cmd': ['/bin/sh']},
    'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + '1' * 64]},
})
CONFIG_ARM64 = dump({
    'architecture': 'arm64',
    'variant': 'v8',
    'os': 'linux',
    'created': '2026-11-20T10:01:00Z',
    'config': {'Labels': None},
})
LAYER = {'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip', 'digest': 'sha256:' + '2' * 64, 'size': 1000}


def image_manifest(config, media_type='application/vnd.oci.image.manifest.v1+json',
                   config_type='application/vnd.oci.image.config.v1+json', layers=(LAYER,)):
    return dump({
        'schemaVersion': 2,
        'mediaType': media_type,
        'config': {'mediaType': config_type, 'digest': sha256_digest(config), 'size': len(config)},
        'layers': list(layers),
    })


MANIFEST_AMD64 = image_manifest(CONFIG_AMD64)
MANIFEST_ARM64 = image_manifest(CONFIG_ARM64)
ATTESTATION = dump({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                    'config': {'mediaType': 'application/vnd.oci.image.config.v1+json',
                               'digest': 'sha256:' + '3' * 64, 'size': 10}, 'layers': []})
INDEX = dump({
    'schemaVersion': 2,
    'mediaType': 'application/vnd.oci.image.index.v1+json',
    'manifests': [
        {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': sha256_digest(MANIFEST_AMD64),
         'size': len(MANIFEST_AMD64), 'platform': {'os': 'linux', 'architecture': 'amd64'}},
        {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': sha256_digest(MANIFEST_ARM64),
         'size': len(MANIFEST_ARM64), 'platform': {'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'}},
        {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': sha256_digest(ATTESTATION),
         'size': len(ATTESTATION), 'platform': {'os': 'unknown', 'architecture': 'unknown'},
         'annotations': {'vnd.docker.reference.type': 'attestation-manifest',
                         'vnd.docker.reference.digest': sha256_digest(MANIFEST_AMD64)}},
    ],
})
DOCKER_LIST = dump({
    'schemaVersion': 2,
    'mediaType': 'application/vnd.docker.distribution.manifest.list.v2+json',
    'manifests': [
        {'mediaType': 'application/vnd.docker.distribution.manifest.v2+json', 'digest': 'sha256:' + '4' * 64,
         'size': 527, 'platform': {'os': 'windows', 'architecture': 'amd64', 'os.version': '10.0.17763.1'}},
    ],
})
SCHEMA1 = dump({
    'schemaVersion': 1,
    'name': 'old/app',
    'tag': 'v1',
    'architecture': 'amd64',
    'history': [{'v1Compatibility': json.dumps({'created': '2016-01-01T00:00:00Z', 'os': 'linux',
                                                'config': {'Labels': {'a': 'b'}}})}],
})
HELM_CHART = image_manifest(b'{}', config_type='application/vnd.cncf.helm.config.v1+json',
                            layers=({'mediaType': 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
                                     'digest': 'sha256:' + '5' * 64, 'size': 300},))
