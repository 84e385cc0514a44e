# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The argument spec of kiln.kaniko.build (options/build.py): what it requires and what it masks."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kiln.kaniko.plugins.modules import build
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import TOKEN, module_params


def test_the_top_level_entries_need_all_three_names():
    with pytest.raises(AssertionError) as caught:
        module_params(namespace='builds', git=dict(repo='https://example.com/a.git'), destinations=['r:5000/a:1'],
                      build_secrets=[dict(id='token', secret='build-token')])
    assert 'missing required arguments: key found in build_secrets' in str(caught.value)


def test_the_option_holds_names_that_are_not_masked():
    result = ArgumentSpecValidator(build.argument_spec()).validate(dict(
        namespace='builds', git=dict(repo='https://example.com/a.git'), destinations=['r:5000/a:1'],
        build_secrets=[TOKEN]))
    assert not result.error_messages and not result._warnings
    assert not {'token', 'build-token'} & set(result._no_log_values)
