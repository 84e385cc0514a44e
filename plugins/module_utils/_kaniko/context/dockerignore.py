# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Docker's .dockerignore rules, as a pure function of the file's text and a path: no I/O.

The rules are the code Kaniko and BuildKit run, moby/patternmatcher (v0.6): ``ignorefile.ReadAll``
reads the file, ``New`` compiles the patterns and ``MatchesOrParentMatches`` decides. Ported
step by step, with Go's own string, path and regular-expression semantics (go_path, go_regexp),
and checked against that code itself (tests/oracle). The reader:

- splits on ``\\n`` only and drops one ``\\r`` before it; a UTF-8 BOM starts the file at most once;
- skips a line starting with ``#`` (before trimming: `` #x`` is the pattern ``#x``) and blank lines;
- trims white space (Go's), takes ``!`` off, trims again, cleans the rest like a path (``./a//b/``
  is ``a/b``) and drops a leading ``/``: every pattern is relative to the root of the context.

Compiling trims and cleans once more (so ``/ foo`` is ``foo``), refuses a lone ``!`` and a pattern
that Go's filepath.Match calls malformed (``[``, ``[-]``, ``a\\``, ``[a-b-c]``). A pattern is then:

- ``**`` followed by no other wildcard: a suffix (``**.log`` is any path ending in ``.log``, and
  ``**/x`` also ``x`` itself); ``x**``: a prefix; no wildcard at all: the exact path;
- otherwise a Go regular expression: ``*`` any run but ``/``, ``?`` one character but ``/``,
  ``**`` (and ``**/``) any run of directories, ``\\`` takes the next character into the regular
  expression as ``\\`` and it, ``[`` and ``]`` pass through as they are. Such a pattern that Go
  cannot compile fails when it is first used, as it does in Docker.

A path is excluded when the last pattern that matches it or one of its parent directories is not an
exception (``!``); an exception is only looked at for a path already excluded and the other way round.
"""

from __future__ import annotations

from typing import Iterable, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.context import go_path, go_regexp

FILE_NAME = '.dockerignore'
MAX_LINE = 64 * 1024  # bufio.Scanner's limit on a line
# patternmatcher means to escape .+()|{}$ but keeps its set in a bitmap of bytes where only
# characters below 64 fit: '|', '{' and '}' reach the regular expression as they are
# (``a{2}`` is ``aa``, ``a|b`` an alternative), and Docker behaves so.
_REGEXP_ESCAPED = frozenset('.+()$')


class PatternError(ValueError):
    """A line Docker refuses: its number (1-based, 0 when unknown), its text and Docker's reason."""

    def __init__(self, line: int, text: str, reason: str) -> None:
        super().__init__('line {0}: {1!r}: {2}'.format(line, text, reason))
        self.line = line
        self.text = text
        self.reason = reason


class Pattern:
    """One compiled pattern: its cleaned text, whether it is an exception, and how it matches."""

    def __init__(self, text: str, exclusion: bool, line: int = 0, source: str | None = None) -> None:
        self.text = text
        self.exclusion = exclusion
        self.line = line
        self.source = text if source is None else source
        self.kind, expression = _translate(text)
        self.regexp: go_regexp.Regexp | None = None
        self.error: PatternError | None = None
        if self.kind == 'regexp':
            try:
                self.regexp = go_regexp.compile_regexp(expression)
            except go_regexp.Unsupported as exc:
                raise PatternError(line, self.source, 'kiln cannot evaluate this pattern as Docker does ({0}); '
                                   'write the characters it stands for instead'.format(exc)) from exc
            except go_regexp.RegexpError as exc:
                self.error = PatternError(line, self.source, 'syntax error in pattern ({0})'.format(exc))

    def matches(self, path: str) -> bool:
        """Pattern.match: whether ``path`` itself matches; raises PatternError if Go cannot compile it."""
        if self.error is not None:
            raise self.error
        if self.kind == 'exact':
            return path == self.text
        if self.kind == 'prefix':
            return path.startswith(self.text[:-2])
        if self.kind == 'suffix':
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == '/' and path == suffix[1:])

        return cast(go_regexp.Regexp, self.regexp).search(path)  # compiled, since there is no error

    def __repr__(self) -> str:
        return 'Pattern({0!r}{1})'.format(self.text, ', exclusion' if self.exclusion else '')


def _runes(text: str) -> list[str]:
    """The characters text/scanner hands out: a leading BOM skipped, an undecodable byte as U+FFFD."""
    chars = [chr(go_regexp.code_point(char)) for char in text]
    return chars[1:] if chars[:1] == ['\ufeff'] else chars


def _translate(pattern: str) -> tuple[str, str]:
    """Pattern.compile: the kind of match ('exact', 'prefix', 'suffix', 'regexp') and the Go expression."""
    out = ['^']
    kind = 'exact'
    chars = _runes(pattern)
    index = step = 0
    while index < len(chars):
        char = chars[index]
        index += 1
        if char == '*' and chars[index:index + 1] == ['*']:
            index += 1
            if chars[index:index + 1] == ['/']:
                index += 1  # '**/' is '**'
            if index < len(chars):
                out.append('(.*/)?')
                kind = 'regexp'
            elif kind == 'exact':
                kind = 'prefix'
            else:
                out.append('.*')
                kind = 'regexp'
            if step == 0:
                kind = 'suffix'
        elif char in '*?':
            out.append('[^/]*' if char == '*' else '[^/]')
            kind = 'regexp'
        elif char in _REGEXP_ESCAPED:
            out.append('\\' + char)
        elif char == '\\':
            if index < len(chars):
                out.append('\\' + chars[index])
                index += 1
                kind = 'regexp'
            else:
                out.append('\\')
        else:
            out.append(char)
            if char in '[]':
                kind = 'regexp'
        step += 1
    return kind, ''.join(out) + '$'


def read_lines(text: str) -> list[tuple[int, str]]:
    """ignorefile.ReadAll: the (line number, pattern) pairs of a .dockerignore file's ``text``."""
    lines = text.split('\n')
    if lines[-1] == '':
        lines.pop()  # the end of the file, not a line
    out = []
    for number, line in enumerate(lines, 1):
        if len(line.encode('utf-8', 'surrogateescape')) >= MAX_LINE:
            raise PatternError(number, line[:40] + '...', 'bufio.Scanner: token too long')
        if line.endswith('\r'):
            line = line[:-1]
        if number == 1 and line.startswith('\ufeff'):
            line = line[1:]
        if line.startswith('#'):
            continue
        pattern = go_path.trim_space(line)
        if not pattern:
            continue
        invert = pattern.startswith('!')
        if invert:
            pattern = go_path.trim_space(pattern[1:])
        if pattern:
            pattern = go_path.clean(pattern)
            if len(pattern) > 1 and pattern.startswith('/'):
                pattern = pattern[1:]
        out.append((number, '!' + pattern if invert else pattern))
    return out


def compile_patterns(lines: Iterable[tuple[int, str]]) -> list[Pattern]:
    """patternmatcher.New over (line number, pattern) pairs: the Patterns; raises PatternError."""
    patterns = []
    for number, source in lines:
        text = go_path.trim_space(source)
        if not text:
            continue
        text = go_path.clean(text)
        exclusion = text.startswith('!')
        if exclusion:
            if text == '!':
                raise PatternError(number, source, 'illegal exclusion pattern: "!"')
            text = text[1:]
        try:
            go_path.match(text, '.')
        except go_path.BadPattern as exc:
            raise PatternError(number, source, str(exc)) from exc
        patterns.append(Pattern(text, exclusion, number, source))
    return patterns


def parse(text: str) -> list[Pattern]:
    """The Patterns of a .dockerignore file's ``text``, in order; raises PatternError where Docker fails."""
    return compile_patterns(read_lines(text))


def excluded(patterns: Iterable[Pattern], path: str) -> bool:
    """MatchesOrParentMatches: whether ``path`` ('/'-separated) is left out; raises PatternError.

    A pattern that matches a parent directory of ``path`` counts as matching ``path``.
    """
    matched = False
    parent = go_path.dirname(path)
    parents = parent.split('/')
    for pattern in patterns:
        if pattern.exclusion != matched:
            continue
        hit = pattern.matches(path)
        if not hit and parent != '.':
            hit = any(pattern.matches('/'.join(parents[:end])) for end in range(1, len(parents) + 1))
        if hit:
            matched = not pattern.exclusion
    return matched


def has_exceptions(patterns: Iterable[Pattern]) -> bool:
    """Whether some line takes paths back (``!``); then an excluded directory must still be looked into."""
    return any(pattern.exclusion for pattern in patterns)
