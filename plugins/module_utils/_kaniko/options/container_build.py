# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The argument spec of kiln.kaniko.container_build: the one place where its options' defaults are written.

It is kiln.kaniko.build's spec (options/build.py) without what only a cluster can honour (namespace, pod, the
Secrets, builds, platforms, the clone image, keep_pod, unschedulable_timeout, retries) and with what a host needs
instead: the git credentials and the CAs of registries as values and files of the host, and the network of
the container. Options with the same name have the same meaning and the same default.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.options import build

# build's options that container_build takes as they are.
SHARED = ('name', 'local_context', 'context_sub_path', 'dockerfile', 'destinations', 'build_args', 'target',
          'labels', 'platform', 'insecure', 'skip_tls_verify', 'insecure_registries', 'registry_mirrors', 'push',
          'extra_args', 'cache', 'cache_repo', 'cache_ttl', 'executor_image', 'image_pull_policy', 'timeout',
          'log_lines', 'log_path', 'force')

# The network the build container runs in, as podman's --network takes it. slirp4netns gives it a network
# namespace of its own, as a pod has, through a user-mode stack: it reaches what the host reaches and
# changes no firewall rule of the host (a podman bridge rewrites iptables, which kube-proxy also manages).
DEFAULT_NETWORK = 'slirp4netns'


def argument_spec() -> dict[str, Any]:
    shared = build.build_options()
    spec = dict((name, shared[name]) for name in SHARED)
    git = dict(shared['git'])
    git_options = dict(git['options'])
    del git_options['secret']  # a Secret of the cluster: the credentials are options here
    git_options.update(
        token=dict(type='str', no_log=True),
        username=dict(type='str'),
        password=dict(type='str', no_log=True),
        key_file=dict(type='path', no_log=False),
        known_hosts_file=dict(type='path'),
    )
    git['options'] = git_options
    spec.update(
        git=git,
        tarball=dict(type='dict', options=dict(dest=dict(type='path', required=True))),
        registry_auth=shared['registry_auth'],
        registry_ca=dict(type='list', elements='dict', options=dict(
            registry=dict(type='str', required=True),
            path=dict(type='path', required=True),
        )),
        network=dict(type='str', default=DEFAULT_NETWORK),
    )
    return spec


MUTUALLY_EXCLUSIVE = [('git', 'local_context')]
REQUIRED_ONE_OF = [('git', 'local_context')]
