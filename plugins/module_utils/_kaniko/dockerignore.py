# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Docker's .dockerignore rules, as a pure function of the file's text and a path: no I/O.

The rules are those of Docker (moby/patternmatcher and its dockerignore reader):

- one pattern a line; a line starting with ``#`` is a comment; blank lines are ignored;
  surrounding white space is trimmed;
- a pattern is cleaned like a path (``./a//b/`` is ``a/b``) and a leading ``/`` is dropped:
  every pattern is relative to the root of the context;
- ``*`` matches any run of characters but ``/``, ``?`` one character but ``/``, ``[...]`` a
  character class (``[^...]`` negated), ``\\`` escapes the next character, and ``**`` any number of directories
  (none too): ``**/*.log`` matches ``a.log`` and ``x/y/a.log``;
- a pattern that matches a directory excludes everything below it;
- a pattern starting with ``!`` is an exception: it takes back what earlier lines excluded;
  the last line that matches a path decides.
"""

from __future__ import annotations

import posixpath
import re

FILE_NAME = '.dockerignore'


class Pattern(object):
    """One line of .dockerignore: its cleaned text, whether it is an exception, its regular expression."""

    def __init__(self, text, exclusion):
        self.text = text
        self.exclusion = exclusion
        self.regex = re.compile(_to_regex(text))

    def matches(self, path):
        """True when ``path`` or one of its parent directories matches."""
        if self.regex.match(path):
            return True
        parts = path.split('/')
        return any(self.regex.match('/'.join(parts[:end])) for end in range(1, len(parts)))

    def __repr__(self):
        return 'Pattern({0!r}{1})'.format(self.text, ', exclusion' if self.exclusion else '')


def _clean(pattern):
    """Docker's filepath.Clean of a pattern, with the leading '/' dropped."""
    cleaned = posixpath.normpath(pattern)
    if cleaned.startswith('//'):
        cleaned = '/' + cleaned.lstrip('/')
    if len(cleaned) > 1 and cleaned.startswith('/'):
        cleaned = cleaned[1:]
    return cleaned


def _to_regex(pattern):
    """The regular expression of one cleaned pattern, anchored at both ends."""
    out = ['^']
    index = 0
    length = len(pattern)
    while index < length:
        char = pattern[index]
        if char == '*':
            if index + 1 < length and pattern[index + 1] == '*':
                index += 2
                if index < length and pattern[index] == '/':
                    index += 1  # '**/' is '**'
                out.append('.*' if index >= length else '(.*/)?')
                continue
            out.append('[^/]*')
        elif char == '?':
            out.append('[^/]')
        elif char == '\\':
            index += 1
            if index < length:
                out.append(re.escape(pattern[index]))
        elif char == '[':
            # A character class passes through as Docker passes it to Go's regexp ('^' negates).
            end = pattern.find(']', index + 2)
            if end < 0:
                out.append(re.escape(char))
            else:
                out.append(pattern[index:end + 1])
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    out.append('$')
    return ''.join(out)


def parse(text):
    """The patterns of a .dockerignore file's ``text``, in order."""
    patterns = []
    for number, line in enumerate(text.splitlines()):
        if number == 0:
            line = line.lstrip('\ufeff')
        if line.startswith('#'):
            continue
        line = line.strip()
        if not line:
            continue
        exclusion = line.startswith('!')
        if exclusion:
            line = line[1:].strip()
            if not line:
                continue
        patterns.append(Pattern(_clean(line), exclusion))
    return patterns


def excluded(patterns, path):
    """Whether ``path`` (relative to the context, '/'-separated) is left out of the context."""
    result = False
    for pattern in patterns:
        if pattern.matches(path):
            result = not pattern.exclusion
    return result


def has_exceptions(patterns):
    """Whether some line takes paths back (``!``); then an excluded directory must still be looked into."""
    return any(pattern.exclusion for pattern in patterns)
