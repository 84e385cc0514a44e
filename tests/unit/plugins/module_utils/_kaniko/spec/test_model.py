# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The BuildSpec and its parts: frozen, and a credential kept out of their repr."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import make_spec


def test_the_spec_is_frozen():
    spec = make_spec()
    with pytest.raises(AttributeError):
        spec.timeout = 5


def test_registry_auth_password_is_kept_out_of_repr():
    spec = make_spec(registry_auth=[dict(server='registry:5000', username='builder', password='s3cr3t-pw')])
    assert spec.registry_auth[0].password == 's3cr3t-pw'
    assert 's3cr3t-pw' not in repr(spec)
