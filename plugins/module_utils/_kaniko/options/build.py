# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The argument spec of kiln.kaniko.build: the one place where its options' defaults are written.

The module validates its parameters against it; the items of builds follow build_options(); the build
action reads the default timeout from it. validate-modules checks it against the module's documentation.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.args import auth_argument_spec

EXECUTOR_IMAGE = 'ghcr.io/osscontainertools/kaniko:v1.26.3'
GIT_IMAGE = 'docker.io/alpine/git:2.49.1'
# The variants of the tools' images that have a shell (the steps run sh scripts that call them).
COSIGN_IMAGE = 'ghcr.io/sigstore/cosign/cosign:v2.6.5-dev'
SYFT_IMAGE = 'docker.io/anchore/syft:v1.57.2-debug'


def _pod_options() -> dict[str, Any]:
    """The suboptions of pod: where and how the build pod runs."""
    return dict(
        labels=dict(type='dict'),
        annotations=dict(type='dict'),
        resources=dict(type='dict', options=dict(
            requests=dict(type='dict'),
            limits=dict(type='dict'),
        )),
        node_selector=dict(type='dict'),
        tolerations=dict(type='list', elements='dict', options=dict(
            key=dict(type='str', no_log=False),
            operator=dict(type='str', choices=['Equal', 'Exists']),
            value=dict(type='str'),
            effect=dict(type='str', choices=['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
            toleration_seconds=dict(type='int', aliases=['tolerationSeconds']),
        )),
        affinity=dict(type='dict', options=dict(
            node_affinity=dict(type='dict', aliases=['nodeAffinity']),
            pod_affinity=dict(type='dict', aliases=['podAffinity']),
            pod_anti_affinity=dict(type='dict', aliases=['podAntiAffinity']),
        )),
        service_account=dict(type='str'),
        image_pull_secrets=dict(type='list', elements='str', no_log=False),
        priority_class=dict(type='str'),
    )


def _credential_options() -> dict[str, Any]:
    """registry_auth and registry_ca: the credentials and CAs of the registries; build_secrets: the keys of
    Secrets that RUN --mount=type=secret reads. build_secrets holds names only (the values stay in the
    cluster), hence no_log=False."""
    return dict(
        registry_auth=dict(type='list', elements='dict', options=dict(
            server=dict(type='str', required=True),
            username=dict(type='str', required=True),
            password=dict(type='str', required=True, no_log=True),
        )),
        registry_ca=dict(type='list', elements='dict', options=dict(
            registry=dict(type='str', required=True),
            secret=dict(type='str', no_log=False),
            config_map=dict(type='str'),
            key=dict(type='str', default='ca.crt', no_log=False),
        )),
        build_secrets=dict(type='list', elements='dict', no_log=False, options=dict(
            id=dict(type='str', required=True),
            secret=dict(type='str', required=True, no_log=False),
            key=dict(type='str', required=True, no_log=False),
        )),
    )


def _source_options() -> dict[str, Any]:
    """Where the build context comes from: a git repository or a directory of the module's host."""
    return dict(
        git=dict(type='dict', options=dict(
            repo=dict(type='str', required=True),
            version=dict(type='str', default='HEAD'),
            depth=dict(type='int', default=1),
            submodules=dict(type='bool', default=False),
            secret=dict(type='str', no_log=False),
        )),
        local_context=dict(type='dict', options=dict(
            path=dict(type='path', required=True),
            max_size=dict(type='raw', default='200Mi'),
        )),
        context_sub_path=dict(type='str', default=''),
        dockerfile=dict(type='str', default='Dockerfile'),
    )


def _supply_options() -> dict[str, Any]:
    """What is added to the pushed image: its signature and its SBOM."""
    return dict(
        sign=dict(type='dict', options=dict(
            key_secret=dict(type='str', required=True, no_log=False),
        )),
        sbom=dict(type='dict', options=dict(
            format=dict(type='str', default='spdx-json', choices=['spdx-json', 'cyclonedx-json']),
            dest=dict(type='path'),
        )),
    )


def build_options() -> dict[str, Any]:
    """The options of one build: the module's own options, which the items of builds take too."""
    return dict(
        namespace=dict(type='str', required=True),
        name=dict(type='str', default='kiln-build'),
        **_source_options(),
        destinations=dict(type='list', elements='str'),
        build_args=dict(type='dict'),
        target=dict(type='str'),
        labels=dict(type='dict'),
        platform=dict(type='str'),
        platforms=dict(type='list', elements='str'),
        cross_build=dict(type='bool', default=False),
        insecure=dict(type='bool', default=False),
        skip_tls_verify=dict(type='bool', default=False),
        insecure_registries=dict(type='list', elements='str'),
        registry_mirrors=dict(type='list', elements='str'),
        push=dict(type='bool'),
        tarball=dict(type='dict', options=dict(
            dest=dict(type='path'),
            pvc=dict(type='str'),
            path=dict(type='str'),
        )),
        extra_args=dict(type='list', elements='str'),
        cache=dict(type='raw', default='auto'),
        cache_repo=dict(type='str'),
        cache_ttl=dict(type='str'),
        registry_secret=dict(type='str', no_log=False),
        **_credential_options(),
        **_supply_options(),
        executor_image=dict(type='str', default=EXECUTOR_IMAGE),
        git_image=dict(type='str', default=GIT_IMAGE),
        cosign_image=dict(type='str', default=COSIGN_IMAGE),
        syft_image=dict(type='str', default=SYFT_IMAGE),
        image_pull_policy=dict(type='str', default='IfNotPresent', choices=['Always', 'IfNotPresent', 'Never']),
        pod=dict(type='dict', options=_pod_options()),
        timeout=dict(type='int', default=1800),
        keep_pod=dict(type='str', default='on_failure', choices=['on_failure', 'always', 'never']),
        unschedulable_timeout=dict(type='int', default=60),
        retries=dict(type='int', default=0),
        log_lines=dict(type='int', default=50),
        log_path=dict(type='path'),
        force=dict(type='bool', default=False),
    )


def argument_spec() -> dict[str, Any]:
    spec = auth_argument_spec()
    spec.update(build_options())
    spec.update(
        builds=dict(type='list', elements='dict'),
        max_concurrent=dict(type='int', default=4),
        owned_by_job_pod=dict(type='bool', default=True),
    )
    return spec


MUTUALLY_EXCLUSIVE = [('registry_secret', 'registry_auth'), ('git', 'local_context')]
REQUIRED_ONE_OF = [('git', 'local_context', 'builds')]


def default(*path: str) -> Any:
    """The default of one of build_options(), as the argument spec says: default('timeout'), or of a
    suboption: default('local_context', 'max_size')."""
    spec = {'options': build_options()}
    for name in path:
        spec = spec['options'][name]
    return spec.get('default')
