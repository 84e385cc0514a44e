# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The connection options shared by every module of this collection.

Names, aliases and K8S_AUTH_* environment variables are kubernetes.core's, so that
module_defaults and habits carry over. Paired with the doc fragment kiln.kaniko.k8s_auth.
"""

from __future__ import annotations

from typing import Any, Callable

from ansible.module_utils.basic import env_fallback


def _env(name: str) -> tuple[Callable[..., Any], list[str]]:
    return (env_fallback, [name])


PROXY_HEADERS_SPEC: dict[str, dict[str, Any]] = dict(
    proxy_basic_auth=dict(type='str', no_log=True, fallback=_env('K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH')),
    basic_auth=dict(type='str', no_log=True, fallback=_env('K8S_AUTH_PROXY_HEADERS_BASIC_AUTH')),
    user_agent=dict(type='str', fallback=_env('K8S_AUTH_PROXY_HEADERS_USER_AGENT')),
)

AUTH_ARG_SPEC: dict[str, dict[str, Any]] = dict(
    kubeconfig=dict(type='raw', no_log=True, fallback=_env('K8S_AUTH_KUBECONFIG')),
    context=dict(type='str', fallback=_env('K8S_AUTH_CONTEXT')),
    host=dict(type='str', fallback=_env('K8S_AUTH_HOST')),
    api_key=dict(type='str', no_log=True, fallback=_env('K8S_AUTH_API_KEY')),
    username=dict(type='str', fallback=_env('K8S_AUTH_USERNAME')),
    password=dict(type='str', no_log=True, fallback=_env('K8S_AUTH_PASSWORD')),
    validate_certs=dict(type='bool', aliases=['verify_ssl'], fallback=_env('K8S_AUTH_VERIFY_SSL')),
    ca_cert=dict(type='path', aliases=['ssl_ca_cert'], fallback=_env('K8S_AUTH_SSL_CA_CERT')),
    client_cert=dict(type='path', aliases=['cert_file'], fallback=_env('K8S_AUTH_CERT_FILE')),
    client_key=dict(type='path', aliases=['key_file'], no_log=False, fallback=_env('K8S_AUTH_KEY_FILE')),
    proxy=dict(type='str', fallback=_env('K8S_AUTH_PROXY')),
    no_proxy=dict(type='str', fallback=_env('K8S_AUTH_NO_PROXY')),
    proxy_headers=dict(type='dict', options=PROXY_HEADERS_SPEC),
    impersonate_user=dict(type='str', fallback=_env('K8S_AUTH_IMPERSONATE_USER')),
    impersonate_groups=dict(type='list', elements='str', fallback=_env('K8S_AUTH_IMPERSONATE_GROUPS')),
)


def auth_argument_spec() -> dict[str, dict[str, Any]]:
    """Return a fresh copy of the connection options, ready to merge into a module's spec."""
    spec: dict[str, dict[str, Any]] = {}
    for name, option in AUTH_ARG_SPEC.items():
        spec[name] = dict(option)
        if 'options' in option:
            spec[name]['options'] = {k: dict(v) for k, v in option['options'].items()}
    return spec
