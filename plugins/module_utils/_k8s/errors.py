# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the Kubernetes layer raises: the cluster refused or failed a request."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Mapping

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError

if TYPE_CHECKING:
    from kubernetes.client.exceptions import ApiException


class ClusterError(KilnError):
    """The cluster refused or failed a request, or lacks what the task refers to."""


def api_message(exc: ApiException) -> str:
    """The API server's own message from an ApiException, or its reason."""
    try:
        body = json.loads(exc.body)
        return body.get('message') or exc.reason
    except (TypeError, ValueError, AttributeError):
        return exc.reason


# How the API server words a refusal by RBAC.
_FORBIDDEN = re.compile(r'cannot (\w+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)")?')


def forbidden_fix(message: str | None) -> str:
    """The fix for an RBAC refusal (``message`` is the API server's), or '' for another message."""
    match = _FORBIDDEN.search(message or '')
    if not match:
        return ''
    verb, resource, group, namespace = match.groups()
    where = " in namespace '{0}'".format(namespace) if namespace else ''
    return ("; grant the verb '{0}' on '{1}'{2}{3} to the account the module runs as (docs/awx.md lists the Role "
            "a build needs)").format(verb, resource, " of API group '{0}'".format(group) if group else '', where)


def _message_and_fix(exc: ApiException) -> tuple[str, str]:
    message = api_message(exc)
    return message, forbidden_fix(message) if getattr(exc, 'status', None) == 403 else ''


def refusal(exc: ApiException) -> str:
    """The API server's message, and for an RBAC refusal (403) the permission to grant: for warnings."""
    return '{0}{1}'.format(*_message_and_fix(exc))


def cluster_error(exc: ApiException, doing: str, details: Mapping[str, Any] | None = None) -> ClusterError:
    """A ClusterError for the ApiException ``exc`` raised while trying to ``doing`` (e.g. 'create the build pod');
    a refusal by RBAC says which permission to grant."""
    message, fix = _message_and_fix(exc)
    return ClusterError('Could not {0}: {1} ({2}){3}'.format(doing, message, exc.status, fix), details)
