# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The documentation of kiln.kaniko.build and kiln.kaniko.container_build, with the doc fragment
kiln.kaniko.build_options, is what their argument specs say.

The modules' documentation is read as ansible-doc reads it: the module found by the plugin loader, its
DOCUMENTATION with its doc fragments merged in by ansible.utils.plugin_docs.get_docstring."""

from __future__ import annotations

import pytest

from ansible.plugins.loader import fragment_loader, module_loader
from ansible.utils.plugin_docs import get_docstring

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.options import build as build_spec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.options import container_build as container_spec

COLLECTION = 'kiln.kaniko'
SPECS = {'build': build_spec.argument_spec(), 'container_build': container_spec.argument_spec()}


def documentation(module):
    """The documentation of ``module`` as ansible-doc shows it."""
    found = module_loader.find_plugin_with_context('{0}.{1}'.format(COLLECTION, module))
    assert found.resolved, 'the plugin loader finds no module {0}.{1}'.format(COLLECTION, module)
    doc, _examples, _returns, _metadata = get_docstring(found.plugin_resolved_path, fragment_loader,
                                                        collection_name=COLLECTION, plugin_type='module')
    return doc


@pytest.fixture(scope='module')
def options():
    return dict((module, documentation(module)['options']) for module in SPECS)


@pytest.mark.parametrize('module', sorted(SPECS))
def test_the_documented_options_are_the_argument_spec(options, module):
    spec = SPECS[module]
    assert sorted(spec) == sorted(options[module])
    for name in spec:
        assert spec[name].get('default') == options[module][name].get('default'), name
