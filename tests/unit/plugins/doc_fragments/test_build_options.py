# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options kiln.kaniko.build and kiln.kaniko.container_build share are documented once, in the doc fragment
kiln.kaniko.build_options, so that ansible-doc gives both modules the same text for each of them; the options of
the same name whose meaning differs are each module's own, and named here with the difference. What each module
documents is its argument spec.

The modules' documentation is read as ansible-doc reads it: the module found by the plugin loader, its
DOCUMENTATION with its doc fragments merged in by ansible.utils.plugin_docs.get_docstring; and, to see what a
module documents itself, that DOCUMENTATION as ansible.parsing.plugin_docs.read_docstring reads it, unmerged."""

from __future__ import annotations

import pytest
import yaml

from ansible.parsing.plugin_docs import read_docstring
from ansible.plugins.loader import fragment_loader, module_loader
from ansible.utils.plugin_docs import get_docstring

from ansible_collections.kiln.kaniko.plugins.doc_fragments import build_options
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.options import build as build_spec
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.options import container_build as container_spec

COLLECTION = 'kiln.kaniko'
SPECS = {'build': build_spec.argument_spec(), 'container_build': container_spec.argument_spec()}
SHARED = sorted(yaml.safe_load(build_options.ModuleDocFragment.DOCUMENTATION)['options'])
# Options of both modules that mean something else in each, with what differs: each module documents its own.
OWN = {
    'name': "the prefix of a pod's name, or of a container's",
    'git': 'cloned in the pod with the credentials of a Secret, or on the host with credentials as options',
    'tarball': 'a file of the host or a file in a PersistentVolumeClaim, or a file of the host only',
    'registry_ca': 'CAs read from Secrets and ConfigMaps, or from files of the host',
    'image_pull_policy': "the pull policy of the pod's containers, or podman's --pull of the executor image",
    'timeout': 'the pod is deleted (and has an activeDeadlineSeconds), or the container is removed',
}


def documentation(module):
    """(the documentation of ``module`` as ansible-doc shows it, the DOCUMENTATION of the module itself)."""
    found = module_loader.find_plugin_with_context('{0}.{1}'.format(COLLECTION, module))
    assert found.resolved, 'the plugin loader finds no module {0}.{1}'.format(COLLECTION, module)
    path = found.plugin_resolved_path
    doc, _examples, _returns, _metadata = get_docstring(path, fragment_loader, collection_name=COLLECTION,
                                                        plugin_type='module')
    return doc, read_docstring(path, verbose=False, ignore_errors=False)['doc']


@pytest.fixture(scope='module')
def docs():
    return dict((module, documentation(module)) for module in SPECS)


@pytest.fixture(scope='module')
def options(docs):
    return dict((module, doc['options']) for module, (doc, _own) in docs.items())


@pytest.mark.parametrize('option', SHARED)
def test_ansible_doc_gives_both_modules_the_same_text_for_a_shared_option(options, option):
    assert options['build'][option]['description'] == options['container_build'][option]['description']
    assert options['build'][option] == options['container_build'][option]


@pytest.mark.parametrize('module', sorted(SPECS))
def test_a_module_does_not_document_a_shared_option_itself(docs, module):
    _doc, own = docs[module]
    assert sorted(set(own['options']) & set(SHARED)) == [], 'documented in {0}.build_options only'.format(COLLECTION)
    assert '{0}.build_options'.format(COLLECTION) in own['extends_documentation_fragment']


def test_every_option_both_modules_have_is_shared_or_named_as_their_own(options):
    both = set(options['build']) & set(options['container_build'])
    assert sorted(both - set(SHARED)) == sorted(OWN)
    assert not set(OWN) & set(SHARED)


@pytest.mark.parametrize('option', sorted(OWN))
def test_an_option_of_each_module_has_a_text_of_its_own(options, option):
    assert options['build'][option]['description'] != options['container_build'][option]['description'], (
        'the same text in both modules: move {0} into {1}.build_options'.format(option, COLLECTION))


@pytest.mark.parametrize('option', SHARED)
def test_a_shared_option_has_the_same_argument_spec_in_both_modules(option):
    assert SPECS['build'][option] == SPECS['container_build'][option]


@pytest.mark.parametrize('module', sorted(SPECS))
def test_the_documented_options_are_the_argument_spec(options, module):
    spec = SPECS[module]
    assert sorted(spec) == sorted(options[module])
    for name in spec:
        assert spec[name].get('default') == options[module][name].get('default'), name
