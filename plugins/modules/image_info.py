#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_info
short_description: Read what a registry holds for an image reference
version_added: 0.1.0
description:
  - Asks a container registry, through the OCI distribution API, whether an image exists and returns its digest,
    media type, size, and the labels and creation time of its configuration.
  - For a multi-platform image (an OCI index or a Docker manifest list) every platform is reported with its
    own digest, size, labels and creation time.
  - Can list the tags of the repository.
  - An image the registry does not have is not an error, RV(exists) is then V(false). A registry that cannot be
    reached, that refuses the credentials or that answers something else fails the task, naming the address.
  - Talks HTTP(S) from the host the module runs on; nothing runs in the cluster.
author:
  - kiln.kaniko maintainers (!UNKNOWN)
extends_documentation_fragment:
  - kiln.kaniko.attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, in check mode as otherwise.
  diff_mode:
    support: N/A
  idempotent:
    support: full
options:
  reference:
    description:
      - The image, as V(host[:port]/repository:tag) or V(host[:port]/repository@sha256:...).
      - Read as Docker and containerd read it (the grammar of distribution/reference) and as written; white space
        is not stripped, and a digest is V(sha256), V(sha384) or V(sha512) with its exact number of lower-case
        hex digits.
      - Without a registry host (a first component with a dot, a colon or an upper-case letter, or
        V(localhost)) the image is on Docker Hub, where one-component names are under V(library/); only
        V(index.docker.io) is read as V(docker.io). Without tag or digest the tag is V(latest).
    type: str
    required: true
    aliases: [name, image]
  username:
    description:
      - User name for the registry. Used for HTTP basic authentication or to get a Bearer token from the
        registry's token service, whichever the registry asks for.
      - Without O(username) and O(password) the registry is asked anonymously.
    type: str
  password:
    description:
      - Password or access token of O(username).
    type: str
  insecure:
    description:
      - Talk plain HTTP to the registry instead of HTTPS.
    type: bool
    default: false
  validate_certs:
    description:
      - Whether to verify the registry's TLS certificate (and the token service's).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) to verify the registry's certificate with, for a registry
        whose certificate was issued by a private CA (such as the one of the P(kiln.kaniko.registry#role) role).
    type: path
  list_tags:
    description:
      - Also return the tags of the repository in RV(tags).
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for each answer of the registry.
    type: int
    default: 30
notes:
  - Only the registry's own API is used (C(GET /v2/)), through C(ansible.module_utils.urls); no Docker or
    Podman and no Python library beyond ansible-core is needed.
  - Redirected blob downloads (registries that serve blobs from object storage) are followed without the
    C(Authorization) header.
seealso:
  - module: kiln.kaniko.build
    description: Build and push an image in the cluster; its digest can be checked with this module.
"""

EXAMPLES = r"""
- name: Is the image there?
  kiln.kaniko.image_info:
    reference: registry.example.com/team/app:1.4.2
  register: app

- name: Build it only when it is missing
  kiln.kaniko.build:
    namespace: builds
    git:
      repo: https://git.example.com/team/app.git
      version: v1.4.2
    destinations: [registry.example.com/team/app:1.4.2]
  when: not app.exists

- name: Read an image by digest from the in-cluster registry, trusting its CA
  kiln.kaniko.image_info:
    reference: "{{ kiln_registry_node_endpoint }}/team/app@{{ build.digest }}"
    ca_path: /etc/pki/kiln-registry-ca.crt
    username: ci
    password: "{{ registry_password }}"
    list_tags: true
  register: built

- name: The tags and the version label
  ansible.builtin.debug:
    msg: "{{ built.tags }} / {{ built.labels['org.opencontainers.image.version'] | default('none') }}"
"""

RETURN = r"""
exists:
  description: Whether the registry has a manifest for the reference.
  returned: always
  type: bool
  sample: true
reference:
  description: The reference as understood, with registry and tag filled in.
  returned: always
  type: str
  sample: registry.example.com/team/app:1.4.2
registry:
  description: The registry host and port (V(docker.io) for Docker Hub).
  returned: always
  type: str
  sample: registry.example.com
repository:
  description: The repository path.
  returned: always
  type: str
  sample: team/app
tag:
  description: The tag asked for; V(null) when the reference had only a digest.
  returned: always
  type: str
  sample: 1.4.2
digest:
  description: Digest of the manifest (or index) the reference points at; what C(image@digest) pulls.
  returned: when RV(exists)
  type: str
  sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
media_type:
  description: Media type of the manifest, such as V(application/vnd.oci.image.manifest.v1+json) or, for a
    multi-platform image, V(application/vnd.oci.image.index.v1+json).
  returned: when RV(exists)
  type: str
manifest_size:
  description: Size of the manifest document in bytes.
  returned: when RV(exists)
  type: int
size:
  description:
    - For a single-platform image, the bytes the registry stores for it (configuration plus compressed layers).
    - V(null) for a multi-platform image; see RV(platforms).
  returned: always
  type: int
  sample: 2592768
created:
  description: Creation time from the image configuration (RFC 3339), when it records one.
  returned: always
  type: str
  sample: "2024-05-01T10:00:00Z"
labels:
  description: Labels of the image configuration (C(LABEL) in a Dockerfile). Empty for a multi-platform image.
  returned: always
  type: dict
  sample: {"org.opencontainers.image.revision": "3f2c1e0"}
platform:
  description: Operating system, architecture and variant of a single-platform image.
  returned: always
  type: dict
  sample: {"os": "linux", "architecture": "amd64", "variant": null}
config_digest:
  description: Digest of the image configuration blob of a single-platform image.
  returned: always
  type: str
  sample: sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741
layers:
  description: The layers of a single-platform image.
  returned: always
  type: list
  elements: dict
  contains:
    digest:
      description: Layer digest.
      type: str
    media_type:
      description: Layer media type.
      type: str
    size:
      description: Compressed size in bytes.
      type: int
platforms:
  description:
    - For a multi-platform image, one entry per manifest of the index, in its order. Empty otherwise.
    - Attestation manifests (provenance, SBOM) are listed with RV(platforms[].attestation=true) and not read further.
  returned: always
  type: list
  elements: dict
  contains:
    platform:
      description: V(os), V(architecture), V(variant) (and V(os_version) when set).
      type: dict
    platform_name:
      description: The platform as V(os/architecture[/variant]).
      type: str
      sample: linux/arm64/v8
    digest:
      description: Digest of the platform's manifest.
      type: str
    media_type:
      description: Media type of the platform's manifest.
      type: str
    manifest_size:
      description: Size of the platform's manifest in bytes.
      type: int
    size:
      description: Bytes stored for the platform's image (configuration plus layers).
      type: int
    created:
      description: Creation time from the platform's image configuration.
      type: str
    labels:
      description: Labels of the platform's image configuration.
      type: dict
    attestation:
      description: Whether the entry is an attestation manifest rather than an image.
      type: bool
tags:
  description: Tags of the repository, in the registry's order; empty when the repository does not exist.
  returned: when O(list_tags=true)
  type: list
  elements: str
  sample: ["1.4.1", "1.4.2", "latest"]
repository_exists:
  description: Whether the registry knows the repository at all.
  returned: when O(list_tags=true)
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kiln.kaniko.plugins.module_utils._registry.info import run


def argument_spec():
    return dict(
        reference=dict(type='str', required=True, aliases=['name', 'image']),
        username=dict(type='str'),
        password=dict(type='str', no_log=True),
        insecure=dict(type='bool', default=False),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        list_tags=dict(type='bool', default=False),
        timeout=dict(type='int', default=30),
    )


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_together=[('username', 'password')],
        supports_check_mode=True,
    )
    run(module)


if __name__ == '__main__':
    main()
