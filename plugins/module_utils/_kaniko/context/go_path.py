# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Go's strings.TrimSpace and path/filepath Clean, Dir and Match (on Linux), which .dockerignore rules use.

They differ from Python's nearest functions in ways a .dockerignore shows: str.strip() also strips
U+001C..U+001F, posixpath.normpath() keeps a leading '//', and fnmatch knows no escapes. Match
works on the UTF-8 bytes as Go does; text that came from bytes with 'surrogateescape' keeps them.
"""

from __future__ import annotations

# unicode.IsSpace: the White_Space property.
SPACE = ('\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a'
         '\u2028\u2029\u202f\u205f\u3000')
_SLASH = ord('/')


class BadPattern(ValueError):
    """filepath.ErrBadPattern."""

    def __init__(self) -> None:
        super().__init__('syntax error in pattern')


def trim_space(text: str) -> str:
    return text.strip(SPACE)


def clean(path: str) -> str:
    """filepath.Clean: the shortest equivalent path, '.' for nothing."""
    rooted = path.startswith('/')
    parts: list[str] = []
    for part in path.split('/'):
        if part in ('', '.'):
            continue
        if part == '..':
            if parts and parts[-1] != '..':
                parts.pop()
            elif not rooted:
                parts.append('..')
            continue
        parts.append(part)
    cleaned = ('/' if rooted else '') + '/'.join(parts)
    return cleaned or '.'


def dirname(path: str) -> str:
    """filepath.Dir: all but the last element, cleaned."""
    return clean(path[:path.rfind('/') + 1])


def _encode(text: str) -> bytes:
    return text.encode('utf-8', 'surrogateescape')


def _decode_rune(data: bytes) -> tuple[int, int]:
    """utf8.DecodeRune: (code point, size), (0xFFFD, 1) for an invalid byte."""
    if data[0] < 0x80:
        return data[0], 1
    for size in (2, 3, 4):
        try:
            return ord(data[:size].decode('utf-8')), size
        except UnicodeDecodeError:
            continue
    return 0xFFFD, 1


def match(pattern: str, name: str) -> bool:
    """filepath.Match(pattern, name); raises BadPattern where Go returns ErrBadPattern.

    As in Go, a chunk of the pattern after the first that cannot match is not looked at, so not
    every malformed pattern is refused.
    """
    return _match(_encode(pattern), _encode(name))


def _match(pattern: bytes, name: bytes) -> bool:
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return _SLASH not in name  # a trailing * matches the rest unless it has a '/'
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        rest = _skip_and_match(chunk, pattern, name) if star else None
        if rest is None:
            return False
        name = rest
    return not name


def _skip_and_match(chunk: bytes, pattern: bytes, name: bytes) -> bytes | None:
    """What is left of ``name`` after a star skipped 1.. bytes (never a '/') and ``chunk`` matched."""
    for index in range(len(name)):
        if name[index] == _SLASH:
            break
        rest = _match_chunk(chunk, name[index + 1:])
        if rest is not None and not (not pattern and rest):
            return rest
    return None


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    """(star, chunk, rest): the next run of non-star pattern, after any stars."""
    star = False
    while pattern[:1] == b'*':
        pattern = pattern[1:]
        star = True
    in_range = False
    index = 0
    while index < len(pattern):
        char = pattern[index:index + 1]
        if char == b'\\':
            if index + 1 < len(pattern):
                index += 1
        elif char == b'[':
            in_range = True
        elif char == b']':
            in_range = False
        elif char == b'*' and not in_range:
            return star, pattern[:index], pattern[index:]
        index += 1
    return star, pattern, b''


def _match_chunk(chunk: bytes, text: bytes) -> bytes | None:
    """What is left of ``text`` after ``chunk`` matched its start, or None; the whole chunk is checked."""
    failed = False
    while chunk:
        failed = failed or not text
        head = chunk[:1]
        if head == b'[':
            code = 0
            if not failed:
                code, size = _decode_rune(text)
                text = text[size:]
            matched, chunk = _match_class(chunk[1:], code)
            failed = failed or not matched
        elif head == b'?':
            if not failed:
                failed = text[0] == _SLASH
                text = text[_decode_rune(text)[1]:]
            chunk = chunk[1:]
        else:
            if head == b'\\':
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern()
            if not failed:
                failed = chunk[0] != text[0]
                text = text[1:]
            chunk = chunk[1:]
    return None if failed else text


def _match_class(chunk: bytes, code: int) -> tuple[bool, bytes]:
    """(whether ``code`` is in the class, the chunk after it); ``chunk`` starts after the '['."""
    negated = chunk[:1] == b'^'
    if negated:
        chunk = chunk[1:]
    matched = False
    ranges = 0
    while True:
        if chunk[:1] == b']' and ranges > 0:
            return matched != negated, chunk[1:]
        low, chunk = _class_char(chunk)
        high = low
        if chunk[:1] == b'-':
            high, chunk = _class_char(chunk[1:])
        matched = matched or low <= code <= high
        ranges += 1


def _class_char(chunk: bytes) -> tuple[int, bytes]:
    """getEsc: one possibly escaped character of a class and the rest, which may not be empty."""
    if not chunk or chunk[:1] in (b'-', b']'):
        raise BadPattern()
    if chunk[:1] == b'\\':
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern()
    code, size = _decode_rune(chunk)
    if (code == 0xFFFD and size == 1) or not chunk[size:]:
        raise BadPattern()
    return code, chunk[size:]
