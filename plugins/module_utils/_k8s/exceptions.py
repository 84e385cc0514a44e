# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the Kubernetes layer raises: the cluster refused or failed a request."""

from __future__ import annotations

import json

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError


class ClusterError(KilnError):
    """The cluster refused or failed a request, or lacks what the task refers to."""


def api_message(exc):
    """The API server's own message from an ApiException, or its reason."""
    try:
        body = json.loads(exc.body)
        return body.get('message') or exc.reason
    except (TypeError, ValueError, AttributeError):
        return exc.reason


def cluster_error(exc, doing, details=None):
    """A ClusterError for the ApiException ``exc`` raised while trying to ``doing`` (e.g. 'create the build pod')."""
    return ClusterError('Could not {0}: {1} ({2})'.format(doing, api_message(exc), exc.status), details)
