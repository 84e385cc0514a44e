# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The layer rules of docs/architecture.md, checked on plugins/ as text (read with ast, nothing imported).

- _k8s (the Kubernetes client) imports nothing of _kaniko or _registry;
- _registry (the OCI distribution API) imports nothing of _k8s or _kaniko;
- module_utils never import modules, action plugins or plugin_utils;
- in _kaniko, only engines/kubernetes/ imports _k8s or the kubernetes client (options/build.py takes the
  connection options' argument spec, _k8s/args.py, which is data);
- outside engines/, _kaniko reaches the engines only through engines/base.py, and neither engine imports
  the other;
- the pure parts (spec/, pod/, context/ but the archive it packs, the result policy, the waiter, the podman
  command line and view) reach, even through other files, no I/O: no _k8s, no engine, no threads,
  sockets, processes or files;
- no file of module_utils over 450 lines, no function over 60;
- there is no import cycle.
"""

from __future__ import annotations

import ast
import functools
import os

import pytest

PLUGINS = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'plugins'))
PREFIX = 'ansible_collections.kiln.kaniko.plugins.'

# Standard-library modules that do I/O or run things in the background.
IO_MODULES = {'os', 'subprocess', 'socket', 'threading', 'tempfile', 'shutil', 'signal', 'urllib.request',
              'concurrent.futures', 'queue', 'time', 'io', 'tarfile'}
KANIKO = 'module_utils._kaniko.'
# Folders of _kaniko whose every module is pure, but those named in IMPURE_IN_PURE_FOLDERS; and pure modules elsewhere.
PURE_FOLDERS = ('spec', 'pod', 'context')
IMPURE_IN_PURE_FOLDERS = {KANIKO + 'context.archive': 'packs the directory it reads into a temporary tar'}
PURE_MODULES = [KANIKO + name for name in ('run.results', 'run.waiter', 'supply.steps', 'control.log_sections',
                                           'engines.base', 'engines.podman.cli', 'engines.podman.view')]
# Client libraries only the Kubernetes engine (and _k8s) may import.
CLUSTER_LIBRARIES = ('kubernetes', 'urllib3', 'websocket')
MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 60


def pure_modules(found):
    """The modules of ``found`` that must stay pure."""
    in_folders = [name for name in found for folder in PURE_FOLDERS
                  if name.startswith(KANIKO + folder + '.') and name not in IMPURE_IN_PURE_FOLDERS]
    return sorted(set(in_folders) | set(name for name in PURE_MODULES if name in found))


def modules(root=PLUGINS):
    """{dotted name below plugins: path} of every Python file of plugins/."""
    found = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith('.py') and name != '__init__.py':
                path = os.path.join(directory, name)
                found[os.path.relpath(path, root)[:-3].replace(os.sep, '.')] = path
    return found


@functools.lru_cache(maxsize=None)
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
    return tuple((name[len(PREFIX):] if name.startswith(PREFIX) else name, line) for name, line in names)


def graph(found):
    """{module: {collection module it imports}}."""
    return dict((name, set(dep for dep, _line in imports(path) if dep in found)) for name, path in found.items())


def breaches(found):
    """Every broken rule, as 'file:line: reason'."""
    problems = []
    named = set()
    for name, path in sorted(found.items()):
        for dep, line in imports(path):
            where = '{0}:{1}: {2} imports {3}'.format(os.path.relpath(path, PLUGINS), line, name, dep)
            if name.startswith('module_utils._k8s.') and dep.startswith(('module_utils._kaniko', 'module_utils._registry')):
                problems.append(where + ' (_k8s knows nothing of builds or registries)')
            if name.startswith('module_utils._registry.') and dep.startswith(('module_utils._k8s', 'module_utils._kaniko')):
                problems.append(where + ' (_registry is the registry API alone)')
            if name.startswith('module_utils.') and dep.startswith(('modules.', 'action.', 'plugin_utils.')):
                problems.append(where + ' (module_utils never import plugins)')
            for reason in engine_rules(name, dep):
                if (name, line, reason) not in named:  # once per import, not once per name it imports
                    named.add((name, line, reason))
                    problems.append(where + ' (' + reason + ')')
    problems.extend(purity(found))
    problems.extend(sizes(found))
    problems.extend('import cycle: ' + ' -> '.join(cycle) for cycle in cycles(graph(found)))
    return problems


def engine_rules(name, dep):
    """Why ``name`` may not import ``dep`` under the engine rules (empty when it may)."""
    if not name.startswith(KANIKO):
        return []
    kubernetes_engine = name.startswith(KANIKO + 'engines.kubernetes.')
    reasons = []
    cluster = dep.startswith('module_utils._k8s') or dep.split('.')[0] in CLUSTER_LIBRARIES
    if cluster and not kubernetes_engine and not (name == KANIKO + 'options.build' and dep.startswith('module_utils._k8s.args')):
        reasons.append('only engines/kubernetes/ reaches the cluster')
    for engine in ('kubernetes', 'podman'):
        if dep.startswith(KANIKO + 'engines.' + engine) and not name.startswith(KANIKO + 'engines.' + engine + '.'):
            reasons.append('the {0} engine is reached through engines/base.py alone'.format(engine))
    return reasons


def sizes(found):
    """Every file of module_utils over MAX_FILE_LINES lines and function over MAX_FUNCTION_LINES."""
    problems = []
    for name, path in sorted(found.items()):
        if not name.startswith('module_utils.'):
            continue
        with open(path) as handle:
            text = handle.read()
        where = os.path.relpath(path, PLUGINS)
        lines = text.count('\n')
        if lines > MAX_FILE_LINES:
            problems.append('{0}: {1} lines (at most {2}: split it by concept)'.format(where, lines, MAX_FILE_LINES))
        for node in ast.walk(ast.parse(text, path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    problems.append('{0}:{1}: {2}() is {3} lines (at most {4})'.format(
                        where, node.lineno, node.name, length, MAX_FUNCTION_LINES))
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
    for name in pure_modules(found):
        for reached in sorted(reach(name, edges) | {name}):
            for dep, line in imports(found[reached]):
                cluster = dep.startswith('module_utils._k8s') and not dep.startswith('module_utils._k8s.args')
                impure = (dep.split('.')[0] in IO_MODULES or dep in IO_MODULES or cluster
                          or dep.startswith((KANIKO + 'engines.kubernetes', KANIKO + 'engines.podman.engine'))
                          or dep.split('.')[0] in CLUSTER_LIBRARIES)
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
    ('module_utils/_kaniko/run/bad.py', 'from kubernetes.client.exceptions import ApiException',
     'only engines/kubernetes/ reaches the cluster'),
    ('module_utils/_kaniko/run/bad.py', 'from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import refusal',
     'only engines/kubernetes/ reaches the cluster'),
    ('module_utils/_kaniko/run/bad.py',
     'from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.engine import ContainerEngine',
     'the podman engine is reached through engines/base.py alone'),
    ('module_utils/_kaniko/engines/podman/bad.py',
     'from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes import pod_exec',
     'the kubernetes engine is reached through engines/base.py alone'),
    ('module_utils/_kaniko/spec/bad.py', 'import subprocess', 'must stay pure'),
    ('module_utils/_kaniko/big.py', '\n' * 451, '452 lines (at most 450'),
    ('module_utils/_kaniko/long.py', 'def long():\n' + '    pass\n' * 60, 'long() is 61 lines (at most 60)'),
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
