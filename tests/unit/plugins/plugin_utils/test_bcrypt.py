# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pure-Python bcrypt against published test vectors and, where the platform has it, libxcrypt."""

from __future__ import annotations

import importlib
import warnings

import pytest

from ansible_collections.kiln.kaniko.plugins.plugin_utils import _bcrypt

# The OpenBSD / jBCrypt vectors (cost 6), as many implementations test themselves with.
VECTORS = [
    ('', '$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.'),
    ('a', '$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe'),
    ('abc', '$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i'),
    ('abcdefghijklmnopqrstuvwxyz', '$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC'),
    ('~!@#$%^&*()      ~!@#$%^&*()PNBFRD', '$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO'),
]


def test_pi_state():
    state = _bcrypt._initial_state()
    assert len(state) == 1042
    # First and last P-array words, first and last S-box words of Blowfish.
    assert (state[0], state[17], state[18], state[-1]) == (0x243F6A88, 0x8979FB1B, 0xD1310BA6, 0x3AC372E6)


@pytest.mark.parametrize('password, hashed', VECTORS)
def test_vectors(password, hashed):
    _variant, cost, salt, _digest = _bcrypt.parse_hash(hashed)
    assert _bcrypt.hash_password(password, cost=cost, salt=salt)[7:] == hashed[7:]


def test_verify_accepts_2a_2b_2y():
    hashed = _bcrypt.hash_password('abc', cost=4)
    for variant in ('$2a$', '$2b$', '$2y$'):
        assert _bcrypt.verify_password('abc', hashed.replace('$2b$', variant, 1))
    assert not _bcrypt.verify_password('abcd', hashed)


def test_round_trip_utf8_and_random_salt():
    first = _bcrypt.hash_password('pässwörd', cost=4)
    second = _bcrypt.hash_password('pässwörd', cost=4)
    assert first.startswith('$2b$04$') and len(first) == 60
    assert first != second
    assert _bcrypt.verify_password('pässwörd', first) and _bcrypt.verify_password('pässwörd', second)
    assert not _bcrypt.verify_password('passwörd', first)


def test_salt_padding_bits_do_not_matter():
    salt = bytes(range(16))
    hashed = _bcrypt.hash_password('x', cost=4, salt=salt)
    last = hashed[28]
    # The last salt character carries 2 bits; another tool may set the other 4.
    other = _bcrypt._ALPHABET.decode()[_bcrypt._DECODE[ord(last)] | 0x0f]
    assert _bcrypt.verify_password('x', hashed[:28] + other + hashed[29:])


def test_matches_libxcrypt_when_available():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        try:
            crypt = importlib.import_module('crypt')
        except ImportError:
            pytest.skip('no crypt module (Python 3.13 and later)')
    hashed = _bcrypt.hash_password('kiln registry', cost=5)
    if crypt.crypt('kiln registry', hashed[:29]) is None or not crypt.crypt('x', '$2b$04$' + '.' * 22):
        pytest.skip('this libcrypt has no bcrypt')
    assert crypt.crypt('kiln registry', hashed[:29]) == hashed


@pytest.mark.parametrize('password, message', [
    ('x' * 73, 'at most 72 bytes'),
    ('é' * 37, 'at most 72 bytes'),
    ('a\0b', 'NUL'),
])
def test_refuses_passwords_bcrypt_would_cut(password, message):
    with pytest.raises(_bcrypt.BcryptError, match=message):
        _bcrypt.hash_password(password, cost=4)
    assert _bcrypt.hash_password('x' * 72, cost=4)


@pytest.mark.parametrize('cost', [3, 17, '5', True, None])
def test_cost_bounds(cost):
    with pytest.raises(_bcrypt.BcryptError, match='cost'):
        _bcrypt.hash_password('x', cost=cost)


@pytest.mark.parametrize('hashed', [
    None, '', 'plain', '$1$abc$def', '$2b$05$short',
    '$2x$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.',
    '$2b$31$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.',
])
def test_verify_rejects_what_it_cannot_check(hashed):
    assert not _bcrypt.verify_password('', hashed)
