# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""bcrypt (``$2b$``) in pure Python, for htpasswd files the distribution registry accepts.

The registry verifies bcrypt only. This runs on the controller, where the alternatives are a
dependency each: ``crypt`` left the standard library in Python 3.13 and only glibc's libxcrypt
knows ``$2b$``; passlib is unmaintained and needs the ``bcrypt`` package for ``$2b$`` anyway.
The algorithm is small (Provos and Mazieres, "A Future-Adaptable Password Scheme", 1999), its
output is checked against published test vectors, and the costs an htpasswd file uses are low
enough for Python (cost 5, the default of ``htpasswd -B``, takes a fraction of a second).

Blowfish's initial state is the fractional part of pi in hexadecimal; it is computed once
(Machin's formula in integer arithmetic) instead of being pasted in as 1042 constants.
"""

from __future__ import annotations

import hmac
import os
import re

MIN_COST = 4
MAX_COST = 16
MAX_PASSWORD_BYTES = 72

_ALPHABET = b'./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}
_MAGIC = b'OrpheanBeholderScryDoubt'
_HASH_RE = re.compile(r'^\$2([abxy])\$(\d\d)\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$')

_INITIAL_STATE = None


class BcryptError(ValueError):
    """A password or hash bcrypt cannot handle."""


def _pi_words(count):
    """The first ``count`` 32-bit words of the fractional part of pi."""
    guard = 64
    bits = 32 * count + guard
    one = 1 << bits

    def arctan_inverse(x):
        total = term = one // x
        square = x * x
        n = 1
        sign = -1
        while term:
            term //= square
            n += 2
            total += sign * (term // n)
            sign = -sign
        return total

    pi = 16 * arctan_inverse(5) - 4 * arctan_inverse(239)
    fraction = (pi - (3 << bits)) >> guard
    return [(fraction >> (32 * (count - 1 - i))) & 0xffffffff for i in range(count)]


def _initial_state():
    global _INITIAL_STATE  # pylint: disable=global-statement
    if _INITIAL_STATE is None:
        _INITIAL_STATE = _pi_words(18 + 4 * 256)
    return _INITIAL_STATE


def _encode(data):
    """bcrypt's radix-64 (its own alphabet, no padding)."""
    out = bytearray()
    for i in range(0, len(data), 3):
        chunk = data[i:i + 3]
        c1 = chunk[0]
        out.append(_ALPHABET[c1 >> 2])
        c1 = (c1 & 0x03) << 4
        if len(chunk) == 1:
            out.append(_ALPHABET[c1])
            break
        c2 = chunk[1]
        out.append(_ALPHABET[c1 | (c2 >> 4)])
        c1 = (c2 & 0x0f) << 2
        if len(chunk) == 2:
            out.append(_ALPHABET[c1])
            break
        c2 = chunk[2]
        out.append(_ALPHABET[c1 | (c2 >> 6)])
        out.append(_ALPHABET[c2 & 0x3f])
    return out.decode('ascii')


def _decode(text, length):
    """Inverse of _encode; returns ``length`` bytes."""
    values = [_DECODE[c] for c in text.encode('ascii')]
    out = bytearray()
    for i in range(0, len(values), 4):
        group = values[i:i + 4]
        out.append(((group[0] << 2) | (group[1] >> 4)) & 0xff)
        if len(group) > 2:
            out.append(((group[1] << 4) | (group[2] >> 2)) & 0xff)
        if len(group) > 3:
            out.append(((group[2] << 6) | group[3]) & 0xff)
    return bytes(out[:length])


def _stream_words(data, count):
    """``count`` big-endian words read cyclically from ``data`` (Blowfish_stream2word)."""
    words = []
    j = 0
    n = len(data)
    for _i in range(count):
        word = 0
        for _k in range(4):
            word = (word << 8) | data[j]
            j = (j + 1) % n
        words.append(word)
    return words


def _eks_blowfish(key, salt, cost):
    """The 23 output bytes of bcrypt for ``key`` (bytes with its NUL), ``salt`` (16 bytes)."""
    state = _initial_state()
    p = state[:18]
    s = state[18:]
    mask = 0xffffffff

    def encipher(left, right):
        left ^= p[0]
        for i in range(1, 17, 2):
            right ^= ((((s[left >> 24] + s[256 | ((left >> 16) & 0xff)]) & mask)
                       ^ s[512 | ((left >> 8) & 0xff)]) + s[768 | (left & 0xff)]) & mask ^ p[i]
            left ^= ((((s[right >> 24] + s[256 | ((right >> 16) & 0xff)]) & mask)
                      ^ s[512 | ((right >> 8) & 0xff)]) + s[768 | (right & 0xff)]) & mask ^ p[i + 1]
        return right ^ p[17], left

    key_words = _stream_words(key, 18)
    salt_words = _stream_words(salt, 18)

    def expand(with_salt, words):
        for i in range(18):
            p[i] ^= words[i]
        left = right = 0
        j = 0
        for i in range(0, 18, 2):
            if with_salt:
                left ^= salt_words[j]
                right ^= salt_words[j + 1]
                j = (j + 2) & 3
            left, right = encipher(left, right)
            p[i] = left
            p[i + 1] = right
        for i in range(0, 1024, 2):
            if with_salt:
                left ^= salt_words[j]
                right ^= salt_words[j + 1]
                j = (j + 2) & 3
            left, right = encipher(left, right)
            s[i] = left
            s[i + 1] = right

    expand(True, key_words)
    for _round in range(1 << cost):
        expand(False, key_words)
        expand(False, salt_words)

    text = _stream_words(_MAGIC, 6)
    for _round in range(64):
        for k in range(0, 6, 2):
            text[k], text[k + 1] = encipher(text[k], text[k + 1])
    return b''.join(word.to_bytes(4, 'big') for word in text)[:23]


def _password_bytes(password):
    data = password.encode('utf-8') if isinstance(password, str) else bytes(password)
    if b'\0' in data:
        raise BcryptError('a bcrypt password cannot contain a NUL character')
    if len(data) > MAX_PASSWORD_BYTES:
        # bcrypt would silently ignore everything after byte 72.
        raise BcryptError('a bcrypt password is at most %d bytes long (UTF-8); this one has %d'
                          % (MAX_PASSWORD_BYTES, len(data)))
    return data + b'\0'


def _check_cost(cost):
    if not isinstance(cost, int) or isinstance(cost, bool) or not MIN_COST <= cost <= MAX_COST:
        raise BcryptError('the bcrypt cost must be an integer from %d to %d, not %r' % (MIN_COST, MAX_COST, cost))


def hash_password(password, cost=5, salt=None):
    """A ``$2b$`` hash of ``password``; ``salt`` (16 bytes) is random unless given."""
    _check_cost(cost)
    if salt is None:
        salt = os.urandom(16)
    if len(salt) != 16:
        raise BcryptError('a bcrypt salt is 16 bytes')
    digest = _eks_blowfish(_password_bytes(password), salt, cost)
    return '$2b$%02d$%s%s' % (cost, _encode(salt), _encode(digest))


def parse_hash(hashed):
    """(variant, cost, salt bytes, digest text) of a bcrypt hash, or None if it is not one."""
    match = _HASH_RE.match(hashed or '')
    if not match:
        return None
    variant, cost, salt, digest = match.groups()
    cost = int(cost)
    if not MIN_COST <= cost <= 31:
        return None
    return variant, cost, _decode(salt, 16), digest


def verify_password(password, hashed):
    """Whether ``password`` matches ``hashed``.

    ``$2a$``, ``$2b$`` and ``$2y$`` hash passwords of at most 72 bytes the same way; ``$2x$`` (the
    output of an old buggy implementation) and costs above MAX_COST are never reported as a match,
    so that callers hash again.
    """
    parsed = parse_hash(hashed)
    if parsed is None:
        return False
    variant, cost, salt, digest = parsed
    if variant == 'x' or cost > MAX_COST:
        return False
    try:
        expected = hash_password(password, cost=cost, salt=salt)
    except BcryptError:
        return False
    # Only the digest is compared: a salt's last character carries 2 bits, and hashes written by
    # other tools may set the 4 unused ones.
    return hmac.compare_digest(expected[-31:].encode('ascii'), digest.encode('ascii'))
