# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the build action shows on the controller while a build runs: pure helpers, no I/O.

The action reads the build's log file in chunks as it grows; ``LogFollower`` turns the chunks into
whole lines and remembers which section (``==> clone <==``, ``==> kaniko <==``) it is in.
"""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import log_sections

# Most bytes of the log read in one poll; the rest comes with the next one.
CHUNK_MAX = 256 * 1024


def format_duration(seconds):
    """Say 7s, 1m05s or 2h03m."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return '{0}s'.format(seconds)
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return '{0}m{1:02d}s'.format(minutes, seconds)
    hours, minutes = divmod(minutes, 60)
    return '{0}h{1:02d}m'.format(hours, minutes)


def describe_build(args):
    """Name a build after its first destination, else after its source.

    Returns ``(label, short)``: the label names the image in full, the short form (the last path
    component, such as ``rng:1.0``) prefixes log lines.
    """
    args = args or {}
    builds = args.get('builds')
    if isinstance(builds, list) and builds:
        names = [describe_build(build)[1] for build in builds if isinstance(build, dict)]
        label = '{0} builds ({1})'.format(len(builds), ', '.join(names))
        return label, 'builds'
    destinations = args.get('destinations')
    if isinstance(destinations, list) and destinations and isinstance(destinations[0], str):
        label = destinations[0]
        return label, label.rsplit('/', 1)[-1]
    git = args.get('git') if isinstance(args.get('git'), dict) else {}
    repo = str(git.get('repo') or args.get('name') or 'build')
    sub_path = str(args.get('context_sub_path') or '').strip('/')
    base = repo.rstrip('/').rsplit('/', 1)[-1]
    if base.endswith('.git'):
        base = base[:-4]
    if sub_path:
        return '{0} ({1})'.format(repo, sub_path), sub_path.rsplit('/', 1)[-1]
    return repo, base or 'build'


def item_names(args):
    """The short names of the items of ``builds``, in order; empty for a single build."""
    builds = (args or {}).get('builds')
    if not isinstance(builds, list):
        return []
    return [describe_build(build)[1] if isinstance(build, dict) else 'builds[{0}]'.format(n)
            for n, build in enumerate(builds)]


def section_source(section, default, names=()):
    """Who a log line of ``section`` comes from: the build's short name, or ``default``."""
    item = log_sections.parse_item(section)
    platform = log_sections.parse_platform(section)
    if item:
        index = item[0]
        default = names[index] if index < len(names) else 'builds[{0}]'.format(index)
    return '{0} {1}'.format(default, platform) if platform else default


def async_limit(args, default_timeout, margin=600, default_retries=0):
    """Seconds the async wrapper lets the module run: the build's own timeout(s), once for each pod that
    ``retries`` lets it run, and a margin.

    The module enforces its timeout itself and removes its pod; the wrapper's limit is only a
    backstop that kills the module (and so must never come first).
    """
    args = args or {}

    def number(spec, key, fallback, least):
        value = spec.get(key) if isinstance(spec, dict) else None
        try:
            return max(least, int(value))
        except (TypeError, ValueError):
            return fallback

    timeout = number(args, 'timeout', default_timeout, 1)
    retries = number(args, 'retries', default_retries, 0)
    total = timeout * (retries + 1)
    builds = args.get('builds')
    if isinstance(builds, list) and builds:
        total = sum(number(build, 'timeout', timeout, 1) * (number(build, 'retries', retries, 0) + 1)
                    for build in builds)
    return total + margin


class LogFollower:
    """Whole lines out of a log file read piecewise from a byte offset.

    ``feed`` and ``flush`` return ``(section, line)`` pairs: the section is the last ``==> name <==``
    header before the line (None before the first one).
    """

    def __init__(self):
        self.offset = 0
        self.section = None
        self._partial = b''

    def feed(self, data):
        """Take the bytes found at ``offset``; return the whole lines they complete."""
        if not data:
            return []
        self.offset += len(data)
        pieces = (self._partial + data).split(b'\n')
        self._partial = pieces.pop()
        return self._lines(pieces)

    def flush(self):
        """The last line of a log that does not end with a newline."""
        rest, self._partial = self._partial, b''
        return self._lines([rest]) if rest else []

    def _lines(self, pieces):
        lines = []
        for piece in pieces:
            line = log_sections.ESCAPES.sub('', piece.decode('utf-8', errors='replace')).rstrip('\r')
            source = log_sections.parse_header(line)
            if source:
                self.section = source
                continue
            if line.strip():
                lines.append((self.section, line))
        return lines


class Cadence:
    """When to say again that a build is still running: first after ``first`` seconds, then every ``every``."""

    def __init__(self, started, first=10.0, every=30.0):
        self.every = max(1.0, float(every))
        self._next = started + max(0.0, float(first))

    def due(self, now):
        if now < self._next:
            return False
        while self._next <= now:
            self._next += self.every
        return True
