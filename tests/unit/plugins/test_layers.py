# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The layer rules of docs/architecture.md, checked on the imports of plugins/ (read with ast, nothing imported).

- _k8s (the Kubernetes client) imports nothing of _kaniko or _registry;
- _registry (the OCI distribution API) imports nothing of _k8s or _kaniko;
- module_utils never import modules, action plugins or plugin_utils;
- the pure parts (the pod renderer, the result policy, the status classifier) reach, even through other
  files, no I/O: no _k8s, no engine, no threads, sockets, processes or files;
- there is no import cycle.
"""

from __future__ import annotations

import ast
import os

import pytest

PLUGINS = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'plugins'))
PREFIX = 'ansible_collections.kiln.kaniko.plugins.'

# Standard-library modules that do I/O or run things in the background.
IO_MODULES = {'os', 'subprocess', 'socket', 'threading', 'tempfile', 'shutil', 'signal', 'urllib.request',
              'concurrent.futures', 'queue', 'time', 'io', 'tarfile'}
PURE = ['module_utils._kaniko.pod.render', 'module_utils._kaniko.run.results', 'module_utils._kaniko.pod.states',
        'module_utils._kaniko.engines.podman.cli', 'module_utils._kaniko.engines.podman.view']


def modules(root=PLUGINS):
    """{dotted name below plugins: path} of every Python file of plugins/."""
    found = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith('.py') and name != '__init__.py':
                path = os.path.join(directory, name)
                found[os.path.relpath(path, root)[:-3].replace(os.sep, '.')] = path
    return found


def imports(path):
    """The modules a file imports: (dotted name, line); collection modules without the plugins prefix."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append((node.module, node.lineno))
            # from ..._kaniko import pod: the module imported is ..._kaniko.pod
            names.extend((node.module + '.' + alias.name, node.lineno) for alias in node.names)
    return [(name[len(PREFIX):] if name.startswith(PREFIX) else name, line) for name, line in names]


def graph(found):
    """{module: {collection module it imports}}."""
    return dict((name, set(dep for dep, _line in imports(path) if dep in found)) for name, path in found.items())


def breaches(found):
    """Every broken rule, as 'file:line: reason'."""
    problems = []
    for name, path in sorted(found.items()):
        for dep, line in imports(path):
            where = '{0}:{1}: {2} imports {3}'.format(os.path.relpath(path, PLUGINS), line, name, dep)
            if name.startswith('module_utils._k8s.') and dep.startswith(('module_utils._kaniko', 'module_utils._registry')):
                problems.append(where + ' (_k8s knows nothing of builds or registries)')
            if name.startswith('module_utils._registry.') and dep.startswith(('module_utils._k8s', 'module_utils._kaniko')):
                problems.append(where + ' (_registry is the registry API alone)')
            if name.startswith('module_utils.') and dep.startswith(('modules.', 'action.', 'plugin_utils.')):
                problems.append(where + ' (module_utils never import plugins)')
    problems.extend(purity(found))
    problems.extend('import cycle: ' + ' -> '.join(cycle) for cycle in cycles(graph(found)))
    return problems


def reach(start, edges):
    seen, todo = set(), [start]
    while todo:
        for dep in edges.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def purity(found):
    edges = graph(found)
    problems = []
    for name in PURE:
        for reached in sorted(reach(name, edges) | {name}):
            for dep, line in imports(found[reached]):
                impure = (dep.split('.')[0] in IO_MODULES or dep in IO_MODULES
                          or dep.startswith(('module_utils._k8s', 'module_utils._kaniko.engines', 'kubernetes', 'urllib3')))
                if impure:
                    problems.append('{0}:{1}: {2} must stay pure, but {3} imports {4}'.format(
                        os.path.relpath(found[reached], PLUGINS), line, name, reached, dep))
    return problems


def cycles(edges):
    """The import cycles of ``edges`` (each once, from its smallest member)."""
    found = set()
    for start in edges:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for dep in edges.get(node, ()):
                if dep == start:
                    cycle = path + [start]
                    smallest = cycle.index(min(cycle[:-1]))
                    found.add(tuple(cycle[smallest:-1] + cycle[:smallest] + [cycle[smallest]]))
                elif dep not in path and dep > start:
                    stack.append((dep, path + [dep]))
    return sorted(found)


def test_the_layer_rules_hold():
    found = modules()
    assert 'module_utils._kaniko.pod.render' in found and 'module_utils._k8s.core' in found  # the walk found the tree
    assert breaches(found) == []


@pytest.mark.parametrize('layer, line, rule', [
    ('module_utils/_k8s/bad.py', 'from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import model',
     '_k8s knows nothing of builds'),
    ('module_utils/_registry/bad.py', 'from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import CoreApi',
     '_registry is the registry API alone'),
    ('module_utils/_kaniko/bad.py', 'from ansible_collections.kiln.kaniko.plugins.modules import build',
     'module_utils never import plugins'),
])
def test_a_breach_is_named(tmp_path, layer, line, rule):
    """The rules catch what they are for: the same walk over a copy of plugins/ with one bad file added."""
    found = modules()
    bad = tmp_path / layer
    bad.parent.mkdir(parents=True)
    bad.write_text(line + '\n')
    found[layer[:-3].replace('/', '.')] = str(bad)
    assert any(rule in problem for problem in breaches(found))


def test_an_impure_renderer_and_a_cycle_are_named(tmp_path):
    found = modules()
    pod = tmp_path / 'render.py'
    with open(found['module_utils._kaniko.pod.render']) as handle:
        pod.write_text(handle.read() + '\nimport subprocess\n'
                       'from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import results\n')
    found['module_utils._kaniko.pod.render'] = str(pod)
    problems = breaches(found)
    assert any('must stay pure' in problem and 'subprocess' in problem for problem in problems)
    assert any(problem.startswith('import cycle: ') and 'module_utils._kaniko.run.results' in problem
               for problem in problems)
