# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What can go wrong when talking to a registry; fail_from_exception reports these at the edge."""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError


class RegistryError(KilnError):
    """The registry answered something this client cannot use."""


class InvalidReference(RegistryError):
    """An image reference that does not parse."""


class RegistryUnreachable(RegistryError):
    """No HTTP answer at all: name resolution, connection, TLS or timeout."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__('cannot reach the registry at %s: %s' % (address, reason),
                         {'registry_address': address})
        self.address = address
        self.reason = reason


class AuthenticationError(RegistryError):
    """The registry (or its token service) wants credentials it did not get, or refused them."""


class TagNotDeletable(RegistryError):
    """The registry keeps the tag: it deletes no tags (distribution 2.x deletes manifests by digest only), deletes
    nothing (storage.delete.enabled false, a pull-through cache), or these credentials may not delete."""
