# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Go's regular expressions (package regexp, RE2 syntax), as far as .dockerignore patterns reach them.

moby/patternmatcher turns a pattern into a Go regular expression and passes character classes
through as written, so a pattern means what Go's regexp makes of that text: ``[[:digit:]]`` is a
POSIX class, ``\\d`` a digit, ``\\Q..\\E`` quotes, ``[]a]`` holds ``]``, and Go refuses what Go
refuses. Python's ``re`` differs on each of those, and backtracks where Go runs in linear time,
so this is a small parser for Go's syntax (with the flags regexp.Compile uses: Perl classes, one
line, ``[^x]`` matching a newline) and a Thompson NFA that answers "does it match anywhere",
as regexp.MatchString does, in time linear in the text.

Left out, refused with Unsupported instead: Unicode classes (``\\pL``, ``\\p{Greek}``: Python has
no tables of Go's Unicode version) and ``(?flags)`` groups, which a pattern never produces.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, NoReturn, Tuple

MAX_RUNE = 0x10FFFF
_WORD = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_PERL = {'d': ((0x30, 0x39),), 's': ((0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)), 'w': _WORD}
_POSIX = {
    'alnum': ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)), 'alpha': ((0x41, 0x5A), (0x61, 0x7A)),
    'ascii': ((0x00, 0x7F),), 'blank': ((0x09, 0x09), (0x20, 0x20)), 'cntrl': ((0x00, 0x1F), (0x7F, 0x7F)),
    'digit': ((0x30, 0x39),), 'graph': ((0x21, 0x7E),), 'lower': ((0x61, 0x7A),), 'print': ((0x20, 0x7E),),
    'punct': ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)), 'space': ((0x09, 0x0D), (0x20, 0x20)),
    'upper': ((0x41, 0x5A),), 'word': _WORD, 'xdigit': ((0x30, 0x39), (0x41, 0x46), (0x61, 0x66)),
}
_C_ESCAPES = {'a': 7, 'f': 12, 'n': 10, 'r': 13, 't': 9, 'v': 11}
_NOT_NEWLINE = ((0, 9), (11, MAX_RUNE))
# A count has no leading zero; Go reads 9 digits at most before calling it too big (> 1000 anyway).
_COUNTED = re.compile(r'\{(0|[1-9][0-9]*)(,(0|[1-9][0-9]*)?)?\}')

# A node of the parse tree: (kind, ...), as _Parser's docstring says.
Node = Tuple[Any, ...]
# Code point ranges (low, high), both included.
Ranges = List[Tuple[int, int]]


class RegexpError(ValueError):
    """Go's regexp.Compile refuses the expression; the message is Go's error code and the text at fault."""


class Unsupported(RegexpError):
    """Valid in Go, but outside what this implementation covers."""


def _negate(ranges: Iterable[tuple[int, int]]) -> Ranges:
    out: Ranges = []
    next_low = 0
    for low, high in _normalize(ranges):
        if low > next_low:
            out.append((next_low, low - 1))
        next_low = high + 1
    if next_low <= MAX_RUNE:
        out.append((next_low, MAX_RUNE))
    return out


def _normalize(ranges: Iterable[tuple[int, int]]) -> Ranges:
    out: Ranges = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out


class _Parser:
    """Recursive descent over Go's grammar; nodes are tuples (kind, ...)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ''

    def error(self, code: str, expr: str) -> NoReturn:
        raise RegexpError('{0}: `{1}`'.format(code, expr))

    def parse(self) -> Node:
        node = self.alternation()
        if self.pos < len(self.text):  # only a ')' stops an alternation early
            self.error('unexpected )', self.text)
        return node

    def alternation(self) -> Node:
        branches = [self.sequence()]
        while self.peek() == '|':
            self.pos += 1
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else ('alt', branches)

    def sequence(self) -> Node:
        items: list[Node] = []
        last_repeat: int | None = None
        while self.pos < len(self.text) and self.peek() not in '|)':
            start = self.pos
            char = self.peek()
            counted = _counted_repeat(self.text, self.pos) if char == '{' else None
            if char in '*+?' or counted:
                self.pos = counted[2] if counted else self.pos + 1
                if self.peek() == '?':
                    self.pos += 1  # non-greedy: the same answer to "does it match"
                if last_repeat is not None:
                    self.error('invalid nested repetition operator', self.text[last_repeat:self.pos])
                if not items:
                    self.error('missing argument to repetition operator', self.text[start:self.pos])
                if counted:
                    low, high = counted[:2]
                    if low > 1000 or high > 1000 or 0 <= high < low:
                        self.error('invalid repeat count', self.text[start:self.pos])
                    items[-1] = ('repeat', items[-1], low, high)
                else:
                    items[-1] = ({'*': 'star', '+': 'plus', '?': 'quest'}[char], items[-1])
                last_repeat = start
                continue
            last_repeat = None
            items.extend(self.atom())
        return ('cat', items)

    def atom(self) -> list[Node]:
        """The nodes of one atom (a \\Q..\\E quote gives several)."""
        char = self.peek()
        if char == '(':
            if self.peek(1) == '?':
                raise Unsupported('(? groups are not supported: `{0}`'.format(self.text))
            self.pos += 1
            inner = self.alternation()
            if self.peek() != ')':
                self.error('missing closing )', self.text)
            self.pos += 1
            return [inner]
        self.pos += 1
        if char == '^':
            return [('assert', 'begin')]
        if char == '$':
            return [('assert', 'end')]
        if char == '.':
            return [('class', _NOT_NEWLINE)]
        if char == '[':
            self.pos -= 1
            return [('class', self.char_class())]
        if char == '\\':
            self.pos -= 1
            return self.escape_atom()
        return [('class', ((ord(char), ord(char)),))]

    def escape_atom(self) -> list[Node]:
        letter = self.peek(1)
        simple: dict[str, Node] = {'A': ('assert', 'begin'), 'z': ('assert', 'end'),
                                   'b': ('assert', 'word'), 'B': ('assert', 'not-word')}
        if letter in simple:
            self.pos += 2
            return [simple[letter]]
        if letter == 'C':
            self.error('invalid escape sequence', '\\C')
        if letter == 'Q':
            end = self.text.find('\\E', self.pos + 2)
            quoted = self.text[self.pos + 2:] if end < 0 else self.text[self.pos + 2:end]
            self.pos = len(self.text) if end < 0 else end + 2
            return [('class', ((ord(c), ord(c)),)) for c in quoted]
        ranges = self.class_escape()
        if ranges is not None:
            return [('class', ranges)]
        code = self.single_escape()
        return [('class', ((code, code),))]

    def class_escape(self) -> Ranges | None:
        """A \\d \\s \\w (or negated) class at pos, consumed; \\p refused; None for anything else."""
        letter = self.peek(1)
        if letter in ('p', 'P'):
            raise Unsupported('Unicode classes (\\p, \\P) are not supported: `{0}`'.format(self.text))
        if letter.lower() in _PERL and letter:
            self.pos += 2
            ranges = _PERL[letter.lower()]
            return list(ranges) if letter.islower() else _negate(ranges)
        return None

    def single_escape(self) -> int:
        """The code point of an ordinary escape at pos (Go's parseEscape), consumed."""
        start = self.pos
        self.pos += 1
        if self.pos >= len(self.text):
            self.error('trailing backslash at end of expression', '')
        char = self.text[self.pos]
        self.pos += 1
        if ord(char) < 0x80 and not char.isalnum():
            return ord(char)
        if char in '01234567' and (char == '0' or self.peek() in tuple('01234567')):
            value = int(char)
            for _digit in range(2):
                if not self.peek() or self.peek() not in '01234567':
                    break
                value = value * 8 + int(self.peek())
                self.pos += 1
            return value
        if char == 'x':
            escaped = self.hex_escape()
            if escaped is not None:
                return escaped
        if char in _C_ESCAPES:
            return _C_ESCAPES[char]
        return self.error('invalid escape sequence', self.text[start:self.pos])

    def hex_escape(self) -> int | None:
        if self.peek() == '{':
            end = self.text.find('}', self.pos)
            digits = self.text[self.pos + 1:end] if end > 0 else ''
            if digits and all(c in '0123456789abcdefABCDEF' for c in digits) and int(digits, 16) <= MAX_RUNE:
                self.pos = end + 1
                return int(digits, 16)
            return None
        digits = self.text[self.pos:self.pos + 2]
        if len(digits) == 2 and all(c in '0123456789abcdefABCDEF' for c in digits):
            self.pos += 2
            return int(digits, 16)
        return None

    def char_class(self) -> Ranges:
        """The ranges of the class at pos (Go's parseClass), consumed."""
        whole = self.text[self.pos:]
        self.pos += 1
        negated = self.peek() == '^'
        if negated:
            self.pos += 1
        ranges: Ranges = []
        first = True
        while first or self.peek() != ']':
            first = False
            if self.pos >= len(self.text):
                self.error('missing closing ]', whole)
            if self.text.startswith('[:', self.pos) and len(self.text) - self.pos > 2:
                named = self.named_class()
                if named is not None:
                    ranges.extend(named)
                    continue
            if self.peek() == '\\':
                perl = self.class_escape()
                if perl is not None:
                    ranges.extend(perl)
                    continue
            start = self.pos
            low = high = self.class_char(whole)
            if self.peek() == '-' and self.peek(1) not in ('', ']'):
                self.pos += 1
                high = self.class_char(whole)
                if high < low:
                    self.error('invalid character class range', self.text[start:self.pos])
            ranges.append((low, high))
        self.pos += 1
        return _negate(ranges) if negated else _normalize(ranges)

    def named_class(self) -> Ranges | None:
        end = self.text.find(':]', self.pos + 2)
        if end < 0:
            return None
        name = self.text[self.pos + 2:end]
        negated = name.startswith('^')
        ranges = _POSIX.get(name[1:] if negated else name)
        if ranges is None:
            self.error('invalid character class range', self.text[self.pos:end + 2])
        self.pos = end + 2
        return _negate(ranges) if negated else list(ranges)

    def class_char(self, whole: str) -> int:
        if self.pos >= len(self.text):
            self.error('missing closing ]', whole)
        if self.peek() == '\\':
            return self.single_escape()
        self.pos += 1
        return ord(self.text[self.pos - 1])


def _counted_repeat(text: str, pos: int) -> tuple[int, int, int] | None:
    """(min, max or -1, end) of a {n}, {n,} or {n,m} at pos (Go's parseRepeat), else None: '{' is a literal."""
    match = _COUNTED.match(text, pos)
    if match is None:
        return None
    low = int(match.group(1))
    high = low if match.group(2) is None else (int(match.group(3)) if match.group(3) else -1)
    return low, high, match.end()


def _emit(node: Node, program: list[Any]) -> None:
    kind = node[0]
    if kind in ('class', 'assert'):
        program.append(node)
    elif kind == 'cat':
        for item in node[1]:
            _emit(item, program)
    elif kind == 'alt':
        jumps = []
        for branch in node[1][:-1]:
            split = len(program)
            program.append(['split', split + 1, None])
            _emit(branch, program)
            jumps.append(len(program))
            program.append(['jump', None])
            program[split][2] = len(program)
        _emit(node[1][-1], program)
        for jump in jumps:
            program[jump][1] = len(program)
    elif kind in ('star', 'quest'):
        split = len(program)
        program.append(['split', split + 1, None])
        _emit(node[1], program)
        if kind == 'star':
            program.append(['jump', split])
        program[split][2] = len(program)
    elif kind == 'repeat':
        sub, low, high = node[1:]
        for _copy in range(low):
            _emit(sub, program)
        if high < 0:
            _emit(('star', sub), program)
        for _copy in range(max(high - low, 0)):
            _emit(('quest', sub), program)
    else:  # plus
        start = len(program)
        _emit(node[1], program)
        program.append(['split', start, len(program) + 1])


class Regexp:
    """A compiled expression; ``search(text)`` is Go's MatchString."""

    def __init__(self, expr: str) -> None:
        self.expr = expr
        # The instructions: ('class', ranges), ('assert', kind), ['split', pc, pc], ['jump', pc], ('match',).
        self.program: list[Any] = []
        _emit(_Parser(expr).parse(), self.program)
        self.program.append(('match',))

    def _assertion_holds(self, kind: str, text: str, index: int) -> bool:
        if kind == 'begin':
            return index == 0
        if kind == 'end':
            return index == len(text)
        before = index > 0 and _is_word(text[index - 1])
        after = index < len(text) and _is_word(text[index])
        return (before != after) == (kind == 'word')

    def _add(self, states: list[int], seen: set[int], pc: int, text: str, index: int) -> None:
        stack = [pc]
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            op = self.program[pc]
            if op[0] == 'jump':
                stack.append(op[1])
            elif op[0] == 'split':
                stack.extend((op[2], op[1]))
            elif op[0] == 'assert':
                if self._assertion_holds(op[1], text, index):
                    stack.append(pc + 1)
            else:
                states.append(pc)

    def search(self, text: str) -> bool:
        """Whether the expression matches somewhere in ``text``."""
        states: list[int] = []
        seen: set[int] = set()
        for index in range(len(text) + 1):
            self._add(states, seen, 0, text, index)
            if any(self.program[pc][0] == 'match' for pc in states):
                return True
            if index == len(text):
                return False
            code = code_point(text[index])
            following: list[int] = []
            seen = set()
            for pc in states:
                op = self.program[pc]
                if op[0] == 'class' and any(low <= code <= high for low, high in op[1]):
                    self._add(following, seen, pc + 1, text, index + 1)
            states = following
        return False  # not reached


def code_point(char: str) -> int:
    code = ord(char)
    # A lone surrogate stands for an undecodable byte (surrogateescape); Go reads that as U+FFFD.
    return 0xFFFD if 0xD800 <= code <= 0xDFFF else code


def _is_word(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _WORD)


def compile_regexp(expr: str) -> Regexp:
    """The Regexp of Go's ``expr``; raises RegexpError where regexp.Compile fails (Unsupported: see above)."""
    return Regexp(expr)
