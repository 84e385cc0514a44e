"""shellcheck the shell that the collection runs in build pods.

Renders pods for a few representative builds (specs made by the module's own argument spec and
build_spec, as the module makes them), takes every script a container runs with ``sh -c`` and
every command the module runs through exec (each ``*_command`` function of _kaniko), plus the
scripts those scripts write with a quoted here-document that starts with ``#!``, and runs
shellcheck on them as POSIX sh. Fails when it finds no script, so that it cannot pass by
checking nothing.

Run from an ansible_collections tree that holds this collection (scripts/lint.sh runs it in the
tools stage): python scripts/embedded_shell.py [--list]
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# <tree>/ansible_collections/kiln/kaniko/scripts/embedded_shell.py
TREE = Path(os.path.abspath(__file__)).parent.parent.parent.parent.parent
PACKAGE = 'ansible_collections.kiln.kaniko.plugins.module_utils._kaniko'
SHELLS = ('sh', '/bin/sh', 'bash', '/bin/bash')

BASE = dict(namespace='builds', destinations=['registry:5000/app:1'], registry_secret='push')
# name -> module parameters of a representative build: each source and each kind of tarball.
BUILDS = {
    'git-https': dict(git=dict(repo='https://git.example.com/org/app.git', version='main', secret='git-token',
                               submodules=True)),
    'git-ssh': dict(git=dict(repo='git@git.example.com:org/app.git', version='v1.2.3', depth=0, secret='deploy-key')),
    'local-context': dict(local_context=dict(path='/src/app')),
    'tarball-dest': dict(git=dict(repo='https://git.example.com/org/app.git'), tarball=dict(dest='/tmp/out/app.tar')),
    'tarball-pvc': dict(local_context=dict(path='/src/app'), tarball=dict(pvc='artifacts', path='images/app.tar')),
    'signed-sbom': dict(git=dict(repo='https://git.example.com/org/app.git'), sign=dict(key_secret='cosign-keys'),
                        sbom=dict(format='spdx-json')),
    'attached-sbom': dict(git=dict(repo='https://git.example.com/org/app.git'), sbom=dict(format='cyclonedx-json')),
}
# Values for the parameters of the *_command functions, by parameter name.
ARGUMENTS = {'size': 1024}
HEREDOC = re.compile(r"<<-?\s*'(?P<tag>\w+)'\n(?P<body>#!.*?\n)(?P=tag)\n", re.S)


@functools.lru_cache(maxsize=None)
def _import_collection():
    if not (TREE / 'ansible_collections' / 'kiln' / 'kaniko').is_dir():
        sys.exit('embedded_shell: {0} is not in an ansible_collections tree; run scripts/lint.sh'.format(__file__))
    sys.path.insert(0, str(TREE))
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod import render
    from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import assemble
    from ansible_collections.kiln.kaniko.plugins.modules import build
    return ArgumentSpecValidator, build, render, assemble


def make_specs():
    """name -> BuildSpec of each of BUILDS."""
    validator_class, build, _pod, spec = _import_collection()
    validator = validator_class(build.argument_spec(), mutually_exclusive=build.MUTUALLY_EXCLUSIVE)
    specs = {}
    for name, params in BUILDS.items():
        result = validator.validate(dict(BASE, **params))
        if result.error_messages:
            sys.exit('embedded_shell: the {0} build is refused: {1}'.format(name, '; '.join(result.error_messages)))
        specs[name] = spec.build_spec(result.validated_parameters)
    return specs


def shell_script(argv):
    """The script of an argv that runs ``sh -c SCRIPT ...``, else None."""
    if len(argv) >= 3 and argv[0] in SHELLS and argv[1] == '-c':
        return argv[2]
    return None


def pod_scripts(name, manifest):
    """(label, script) of each container of the pod manifest that runs a shell script."""
    pod_spec = manifest['spec']
    for container in pod_spec.get('initContainers', []) + pod_spec['containers']:
        script = shell_script(list(container.get('command') or []) + list(container.get('args') or []))
        if script is not None:
            yield '{0}.{1}'.format(name, container['name']), script


def command_functions():
    """name -> each public ``*_command`` function of the _kaniko modules (the commands run through exec), in
    every folder: the folders are namespace packages, which pkgutil does not walk."""
    package = importlib.import_module(PACKAGE)
    found = {}
    for root in package.__path__:
        for directory, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != '__pycache__')
            for file_name in sorted(f for f in files if f.endswith('.py')):
                name = os.path.relpath(os.path.join(directory, file_name), root)[:-3].replace(os.sep, '.')
                module = importlib.import_module('{0}.{1}'.format(PACKAGE, name))
                for attr, value in vars(module).items():
                    if attr.endswith('_command') and not attr.startswith('_') and inspect.isfunction(value) \
                            and value.__module__ == module.__name__:
                        found['{0}.{1}'.format(name, attr)] = value
    return found


def exec_scripts(specs):
    """(label, script) of each exec command, called for every spec it applies to; fails on one that applies to none."""
    for name, function in sorted(command_functions().items()):
        parameters = inspect.signature(function).parameters
        unknown = [p for p in parameters if p != 'spec' and p not in ARGUMENTS]
        if unknown:
            sys.exit('embedded_shell: do not know what to give {0}() for {1}; add it to ARGUMENTS'.format(
                name, ', '.join(unknown)))
        wanted = [(label, spec) for label, spec in specs.items()] if 'spec' in parameters else [('-', None)]
        scripts = 0
        for label, spec in wanted:
            kwargs = {p: (spec if p == 'spec' else ARGUMENTS[p]) for p in parameters}
            try:
                argv = function(**kwargs)
            except (AttributeError, TypeError, ValueError):  # a tarball command for a build without a tarball
                continue
            script = shell_script(argv)
            if script is None:
                sys.exit('embedded_shell: {0}() does not run sh -c: {1!r}'.format(name, argv[:2]))
            scripts += 1
            yield '{0}{1}'.format(name, '' if spec is None else '.' + label), script
        if not scripts:
            sys.exit('embedded_shell: {0}() gave a command for none of the builds'.format(name))


def with_heredocs(label, script):
    """The script, then each script it writes with a quoted here-document that starts with #!."""
    yield label, script
    for number, match in enumerate(HEREDOC.finditer(script)):
        yield '{0}.heredoc{1}-{2}'.format(label, number, match.group('tag')), match.group('body')


def all_scripts():
    """label -> script, the same script once (under its first label)."""
    specs = make_specs()
    pod = _import_collection()[2]
    found = {}
    pairs = []
    for name, spec in specs.items():
        pairs.extend(pod_scripts(name, pod.render_pod(spec)))
    pairs.extend(exec_scripts(specs))
    for label, script in pairs:
        for inner_label, inner in with_heredocs(label, script):
            if inner not in found.values():
                found[inner_label] = inner
    return found


def run_shellcheck(scripts):
    shellcheck = shutil.which('shellcheck', path=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    if not shellcheck:
        sys.exit('embedded_shell: no shellcheck (the tools venv has it: scripts/tools-env.sh)')
    with tempfile.TemporaryDirectory(prefix='kiln-embedded-shell-') as tmp:
        names = []
        for label, script in scripts.items():
            names.append(label + '.sh')
            with open(os.path.join(tmp, names[-1]), 'w') as handle:
                handle.write(script if script.startswith('#!') else '#!/bin/sh\n' + script + '\n')
        return subprocess.call([shellcheck, '--shell=sh', '--severity=warning', '--format=gcc'] + names, cwd=tmp)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--list', action='store_true', help='print the scripts instead of checking them')
    args = parser.parse_args()
    scripts = all_scripts()
    if not scripts:
        sys.exit('embedded_shell: found no script to check; has the renderer changed?')
    if args.list:
        for label, script in scripts.items():
            print('==== {0}\n{1}'.format(label, script))
        return 0
    status = run_shellcheck(scripts)
    print('embedded_shell: {0} scripts checked ({1}): {2}'.format(
        len(scripts), 'shellcheck found problems' if status else 'clean', ', '.join(scripts)))
    return status


if __name__ == '__main__':
    sys.exit(main())
