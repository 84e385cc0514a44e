# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the Kubernetes layer raises: the cluster refused or failed a request."""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError


class ClusterError(KilnError):
    """The cluster refused or failed a request, or lacks what the task refers to."""
