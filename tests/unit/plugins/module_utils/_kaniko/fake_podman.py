# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one fake of podman in the unit tests: an executable that answers as podman did in a recording.

install() writes a ``podman`` into a directory that runs this file with the tests' Python; it answers what the
engine of kiln.kaniko.container_build asks (--version, info, create, start --attach, inspect, rm, ps) from one
recording of tests/lab/record_podman.py (fixtures/recorded/podman/), as podman 4.3.1 answered: create, start
and inspect with the recorded exit statuses and output, info and --version from a host recording. ``rm``
forgets the container, after which inspect says what podman says of a container it does not have; ``ps --filter
label=KEY=VALUE`` lists the containers created with that label and not removed yet. Every call is appended to the
file ``calls`` beside it, one JSON list per line.
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDED = os.path.join(HERE, 'fixtures', 'recorded', 'podman')


class FakePodman(object):
    """A fake podman in ``directory``: its ``path``, the ``calls`` it got, and what someone else does to it."""

    def __init__(self, directory):
        self.directory = str(directory)
        self.path = os.path.join(self.directory, 'podman')

    def calls(self):
        try:
            with open(os.path.join(self.directory, 'calls')) as handle:
                return [json.loads(line) for line in handle]
        except IOError:
            return []

    def commands(self):
        """The podman command of each call (create, start, inspect, ...), in order."""
        return [call[0] for call in self.calls()]

    def containers(self):
        """The names of the containers it created and that were not removed, as ``podman ps --all`` lists them."""
        return sorted(_containers(self.directory))

    def remove_behind_the_engines_back(self):
        """As ``podman rm`` by someone else: the container is gone."""
        open(os.path.join(self.directory, 'removed'), 'w').close()


def install(directory, scenario, host='host'):
    """A FakePodman in ``directory`` that answers as in recording ``scenario``, and --version and info as in
    recording ``host`` (names in fixtures/recorded/podman)."""
    directory = str(directory)
    with open(os.path.join(directory, 'scenario'), 'w') as handle:
        json.dump({'recording': os.path.join(RECORDED, scenario + '.json'),
                   'host': os.path.join(RECORDED, host + '.json')}, handle)
    path = os.path.join(directory, 'podman')
    with open(path, 'w') as handle:
        handle.write('#!/bin/sh\nexec "{0}" "{1}" "{2}" "$@"\n'.format(
            sys.executable, os.path.abspath(__file__), os.path.abspath(directory)))
    os.chmod(path, 0o755)
    return FakePodman(directory)


def _containers(directory, change=None):
    """{name: {label: value}} of the containers created and not removed; ``change`` edits it first."""
    path = os.path.join(directory, 'containers')
    try:
        with open(path) as handle:
            found = json.load(handle)
    except IOError:
        found = {}
    if change is not None:
        change(found)
        with open(path, 'w') as handle:
            json.dump(found, handle)
    return found


def _created(directory, words):
    options = dict(word[2:].split('=', 1) for word in words if word.startswith('--') and '=' in word)
    labels = dict(word[len('--label='):].split('=', 1) for word in words if word.startswith('--label='))
    _containers(directory, lambda found: found.update({options['name']: labels}))


def _listed(directory, words):
    wanted = [word[len('label='):].split('=', 1) for word in words if word.startswith('label=')]
    for name, labels in sorted(_containers(directory).items()):
        if all(labels.get(key) == value for key, value in wanted):
            sys.stdout.write(name + '\n')
    return 0


def _answer(recorded):
    sys.stdout.write(recorded.get('stdout') or '')
    sys.stdout.flush()
    sys.stderr.write(recorded.get('stderr') or '')
    return recorded['returncode']


def _inspect(directory, recording, name):
    if os.path.exists(os.path.join(directory, 'removed')) or 'inspect' not in recording:
        sys.stderr.write('Error: inspecting object: no such container {0}\n'.format(name))
        return 125
    sys.stdout.write(json.dumps(recording['inspect'][0]['State']) + '\n')
    return 0


def main(directory, words):
    with open(os.path.join(directory, 'calls'), 'a') as handle:
        handle.write(json.dumps(words) + '\n')
    with open(os.path.join(directory, 'scenario')) as handle:
        paths = json.load(handle)
    command = words[0] if words else ''
    if command in ('--version', 'info'):
        with open(paths['host']) as handle:
            host = json.load(handle)
        if command == 'info':
            sys.stdout.write(json.dumps(host['info']) + '\n')
            return 0
        return _answer(host['version'])
    with open(paths['recording']) as handle:
        recording = json.load(handle)
    if command == 'create' and recording['create']['returncode'] == 0:
        _created(directory, words)
    if command in ('create', 'start'):
        return _answer(recording[command])
    if command == 'inspect':
        return _inspect(directory, recording, words[-1])
    if command == 'rm':
        open(os.path.join(directory, 'removed'), 'w').close()
        _containers(directory, lambda found: found.pop(words[-1], None))
        return 0
    if command == 'ps':
        return _listed(directory, words)
    sys.stderr.write('Error: the fake podman does not know {0}\n'.format(' '.join(words)))
    return 125


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2:]))
