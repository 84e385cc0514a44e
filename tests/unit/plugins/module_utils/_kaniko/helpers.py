# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared helpers of the _kaniko unit tests."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.assemble import build_spec
from ansible_collections.kiln.kaniko.plugins.modules import build

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')

DOCKERCOINS_RNG = dict(
    namespace='builds',
    git=dict(repo='https://github.com/jpetazzo/container.training'),
    context_sub_path='dockercoins/rng',
    destinations=['registry:5000/rng:latest'],
    insecure=True,
)


def module_params(**params):
    """Run params through the module's own argument spec, as AnsibleModule would."""
    validator = ArgumentSpecValidator(build.argument_spec(), mutually_exclusive=build.MUTUALLY_EXCLUSIVE)
    result = validator.validate(params)
    if result.error_messages:
        raise AssertionError(result.error_messages)
    return result.validated_parameters


def make_spec(**overrides):
    params = dict(DOCKERCOINS_RNG)
    params.update(overrides)
    return build_spec(module_params(**params))


def invalid(**overrides):
    """The ValidationError that make_spec raises for ``overrides``."""
    with pytest.raises(ValidationError) as caught:
        make_spec(**overrides)
    return caught.value


def local(**overrides):
    """The spec of a build of a local context (DOCKERCOINS_RNG without git)."""
    params = dict(DOCKERCOINS_RNG, local_context=dict(path='/src/app'))
    params.pop('git')
    params.update(overrides)
    return build_spec(module_params(**params))


def packed(spec, sha='ab' * 32):
    """``spec`` with its local context packed, as the preparation makes it."""
    return dataclasses.replace(spec, local=dataclasses.replace(spec.local, size=1024, sha256=sha))


# build_secrets entries, and a value that must reach nothing
TOKEN = dict(id='token', secret='build-token', key='token')
NETRC = dict(id='netrc', secret='pip-auth', key='.netrc')
VALUE = 'kiln-test-build-secret-value-3f9a1c'


def load_fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return json.load(handle)
