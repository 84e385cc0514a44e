# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""WWW-Authenticate challenges (RFC 7235 section 4.1), as registries send them.

A header may hold several challenges separated by commas, and a challenge's parameters are
separated by commas too: a comma followed by ``token=`` continues the parameters, a comma
followed by a bare token starts the next challenge. Quoted values may contain commas, ``=`` and
backslash escapes (Bearer scopes such as ``repository:a/b:pull,push`` do). Empty list elements
(``Basic , realm="r"``) are skipped as RFC 7230 section 7 asks, and line breaks count as white space,
so a header folded over lines reads as it does unfolded.
"""

from __future__ import annotations

from typing import Dict, Iterable, NamedTuple

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKEN68_CHARS = _TOKEN_CHARS | frozenset('/=')
_SPACE = (' ', '\t', '\r', '\n')


class Challenge(NamedTuple):
    """scheme in lower case (``bearer``, ``basic``), params with lower-case names."""

    scheme: str
    params: Dict[str, str]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)


class _Scanner:

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ''

    def skip_space(self) -> None:
        # CR and LF too: a header folded over lines (obs-fold) may reach us unfolded, as distribution allows.
        while self.peek() in _SPACE:
            self.pos += 1

    def skip_separators(self) -> None:
        while self.peek() in _SPACE or self.peek() == ',':
            self.pos += 1

    def token(self, chars: frozenset[str] = _TOKEN_CHARS) -> str:
        start = self.pos
        while self.peek() and self.peek() in chars:
            self.pos += 1
        return self.text[start:self.pos]

    def quoted(self) -> str:
        """A quoted-string's value; the scanner is on the opening quote."""
        self.pos += 1
        value = []
        while not self.at_end():
            char = self.text[self.pos]
            self.pos += 1
            if char == '\\' and not self.at_end():
                value.append(self.text[self.pos])
                self.pos += 1
            elif char == '"':
                return ''.join(value)
            else:
                value.append(char)
        return ''.join(value)  # unterminated: take what there is

    def param_follows(self) -> bool:
        """Whether a ``token =`` comes next (without consuming it)."""
        saved = self.pos
        self.skip_space()
        name = self.token()
        self.skip_space()
        follows = bool(name) and self.peek() == '='
        self.pos = saved
        return follows


def _params_follow(scanner: _Scanner) -> bool:
    """Whether parameters follow the scheme, past empty list elements (``Basic , realm="r"``, RFC 7230
    section 7); the scanner is left on the first parameter, or where it was when none follows."""
    saved = scanner.pos
    scanner.skip_separators()
    if scanner.param_follows():
        return True
    scanner.pos = saved
    return False


def parse_challenges(header: str | None) -> list[Challenge]:
    """The challenges of one WWW-Authenticate header value, in order. Never raises."""
    scanner = _Scanner(header or '')
    challenges = []
    while True:
        scanner.skip_separators()
        if scanner.at_end():
            break
        scheme = scanner.token()
        if not scheme:
            scanner.pos += 1  # not a token: skip the character and look again
            continue
        params: dict[str, str] = {}
        scanner.skip_space()
        if _params_follow(scanner):
            while True:
                scanner.skip_space()
                name = scanner.token().lower()
                scanner.skip_space()
                scanner.pos += 1  # '='
                scanner.skip_space()
                value = scanner.quoted() if scanner.peek() == '"' else scanner.token()
                params.setdefault(name, value)
                scanner.skip_space()
                if scanner.peek() != ',':
                    break
                while scanner.peek() == ',':
                    scanner.pos += 1
                    scanner.skip_space()
                if not scanner.param_follows():
                    break
        else:
            token68 = scanner.token(_TOKEN68_CHARS)
            if token68:
                params['token68'] = token68
        challenges.append(Challenge(scheme.lower(), params))
    return challenges


def pick_challenge(challenges: Iterable[Challenge]) -> Challenge | None:
    """The challenge this client answers: Bearer before Basic; None when neither is offered."""
    for scheme in ('bearer', 'basic'):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None
