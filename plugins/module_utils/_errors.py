# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection-wide errors, and the one place that turns them into fail_json.

Each layer raises its own kind, derived from KilnError: ClusterError (_k8s/errors.py),
RegistryError (_registry/errors.py), BuildFailed, BuildInterrupted and TransferError (_kaniko/errors.py).
A module's edge catches KilnError once and calls fail_from_exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, NoReturn

if TYPE_CHECKING:
    from ansible.module_utils.basic import AnsibleModule


class KilnError(Exception):
    """Base of every error this collection raises on purpose.

    ``details`` are extra result keys for fail_json (never secrets).
    """

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})


class ValidationError(KilnError):
    """An option value that cannot work; the message names the option and the fix."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__('{0}: {1}'.format(option, message), {'option': option})
        self.option = option
        self.reason = message


def fail_from_exception(module: AnsibleModule, exc: KilnError) -> NoReturn:
    """Report a KilnError through module.fail_json: msg plus its details."""
    details = dict(exc.details)
    details.pop('msg', None)
    details.pop('failed', None)
    details.setdefault('changed', False)
    module.fail_json(msg=exc.message, **details)
