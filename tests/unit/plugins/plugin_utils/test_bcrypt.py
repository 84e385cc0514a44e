# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pure-Python bcrypt against published test vectors and, where the platform has it, libxcrypt."""

from __future__ import annotations

import ctypes
import ctypes.util

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


def _libcrypt():
    """crypt(3) of the platform's libcrypt (libxcrypt on Debian), through ctypes: Python's crypt module, which wrapped
    it, is gone since Python 3.13 (PEP 594), and the library is the judge on every Python."""
    name = ctypes.util.find_library('crypt')
    if name is None:
        pytest.skip('no libcrypt on this platform')
    crypt = ctypes.CDLL(name).crypt
    crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    crypt.restype = ctypes.c_char_p

    def call(password, setting):
        out = crypt(password.encode(), setting.encode())
        # libxcrypt answers a setting it cannot use with NULL or with a string that starts with '*'.
        return None if out is None or out.startswith(b'*') else out.decode()
    return call


def test_matches_libxcrypt_when_available():
    crypt = _libcrypt()
    hashed = _bcrypt.hash_password('kiln registry', cost=5)
    if crypt('x', '$2b$04$' + '.' * 22) is None:
        pytest.skip('this libcrypt has no bcrypt')
    assert crypt('kiln registry', hashed[:29]) == hashed
    for password, expected in VECTORS:
        assert crypt(password, expected[:29]) == expected


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


# pyca/bcrypt tests/test_bcrypt.py, _test_vectors: (password, salt, hashed). The two vectors whose
# passwords hold a NUL byte are in PYCA_NUL_VECTORS below: kiln refuses those passwords instead.
PYCA_VECTORS = [
    (b"Kk4DQuMMfZL9o", "$2b$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm"),
    (b"9IeRXmnGxMYbs", "$2b$04$pQ7gRO7e6wx/936oXhNjrOUNOHL1D0h1N2IDbJZYs.1ppzSof6SPy"),
    (b"xVQVbwa1S0M8r", "$2b$04$SQe9knOzepOVKoYXo9xTteNYr6MBwVz4tpriJVe3PNgYufGIsgKcW"),
    (b"Zfgr26LWd22Za", "$2b$04$eH8zX.q5Q.j2hO1NkVYJQOM6KxntS/ow3.YzVmFrE4t//CoF4fvne"),
    (b"Tg4daC27epFBE", "$2b$04$ahiTdwRXpUG2JLRcIznxc.s1.ydaPGD372bsGs8NqyYjLY1inG5n2"),
    (b"xhQPMmwh5ALzW", "$2b$04$nQn78dV0hGHf5wUBe0zOFu8n07ZbWWOKoGasZKRspZxtt.vBRNMIy"),
    (b"59je8h5Gj71tg", "$2b$04$cvXudZ5ugTg95W.rOjMITuM1jC0piCl3zF5cmGhzCibHZrNHkmckG"),
    (b"wT4fHJa2N9WSW", "$2b$04$YYjtiq4Uh88yUsExO0RNTuEJ.tZlsONac16A8OcLHleWFjVawfGvO"),
    (b"uSgFRnQdOgm4S", "$2b$04$WLTjgY/pZSyqX/fbMbJzf.qxCeTMQOzgL.CimRjMHtMxd/VGKojMu"),
    (b"tEPtJZXur16Vg", "$2b$04$2moPs/x/wnCfeQ5pCheMcuSJQ/KYjOZG780UjA/SiR.KsYWNrC7SG"),
    (b"vvho8C6nlVf9K", "$2b$04$HrEYC/AQ2HS77G78cQDZQ.r44WGcruKw03KHlnp71yVQEwpsi3xl2"),
    (b"5auCCY9by0Ruf", "$2b$04$vVYgSTfB8KVbmhbZE/k3R.ux9A0lJUM4CZwCkHI9fifke2.rTF7MG"),
    (b"GtTkR6qn2QOZW", "$2b$04$JfoNrR8.doieoI8..F.C1OQgwE3uTeuardy6lw0AjALUzOARoyf2m"),
    (b"zKo8vdFSnjX0f", "$2b$04$HP3I0PUs7KBEzMBNFw7o3O7f/uxaZU7aaDot1quHMgB2yrwBXsgyy"),
    (b"I9VfYlacJiwiK", "$2b$04$xnFVhJsTzsFBTeP3PpgbMeMREb6rdKV9faW54Sx.yg9plf4jY8qT6"),
    (b"VFPO7YXnHQbQO", "$2b$04$WQp9.igoLqVr6Qk70mz6xuRxE0RttVXXdukpR9N54x17ecad34ZF6"),
    (b"VDx5BdxfxstYk", "$2b$04$xgZtlonpAHSU/njOCdKztOPuPFzCNVpB4LGicO4/OGgHv.uKHkwsS"),
    (b"dEe6XfVGrrfSH", "$2b$04$2Siw3Nv3Q/gTOIPetAyPr.GNj3aO0lb1E5E9UumYGKjP9BYqlNWJe"),
    (b"cTT0EAFdwJiLn", "$2b$04$7/Qj7Kd8BcSahPO4khB8me4ssDJCW3r4OGYqPF87jxtrSyPj5cS5m"),
    (b"J8eHUDuxBB520", "$2b$04$VvlCUKbTMjaxaYJ.k5juoecpG/7IzcH1AkmqKi.lIZMVIOLClWAk."),
    (b"U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
    (b"U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"),
    (b"U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"),
    (b"\xa3", "$2a$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq"),
]
PYCA_NUL_VECTORS = [
    (b"}>\xb3\xfe\xf1\x8b\xa0\xe6(\xa2Lzq\xc3P\x7f\xcc\xc8b{\xf9\x14\xf6\xf6`\x81G5\xec\x1d\x87\x10\xbf\xa7\xe1}I7 "
     b"\x96\xdfc\xf2\xbf\xb3Vh\xdfM\x88q\xf7\xff\x1b\x82~z\x13\xdd\xe9\x84\x00\xdd4",
     "$2b$10$keO.ZZs22YtygVF6BLfhGOI/JjshJYPp8DZsUtym6mJV2Eha2Hdd."),
    (b"g7\r\x01\xf3\xd4\xd0\xa9JB^\x18\x007P\xb2N\xc7\x1c\xee\x87&\x83C\x8b\xe8\x18\xc5>\x86\x14/\xd6\xcc\x1cJ\xde"
     b"\xd7ix\xeb\xdeO\xef\xe1i\xac\xcb\x03\x96v1' \xd6@.m\xa5!\xa0\xef\xc0(",
     "$2a$04$tecY.9ylRInW/rAAzXCXPOOlyYeCNzmNTzPDNSIFztFMKbvs/s5XG"),
]
# pyca/bcrypt tests/test_bcrypt.py, _2y_test_vectors (checkpw): (password, hashed).
PYCA_2Y_VECTORS = [
    (b"\xa3", "$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq"),
    (b"\xff\xff\xa3", "$2y$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e"),
]
# pyca/bcrypt tests/test_bcrypt.py, _long_pw_vectors: longer than 72 bytes, refused (pyca raises ValueError).
PYCA_LONG_PASSWORDS = [
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored",
    b"\xaa" * 72 + b"chars after 72 are ignored as usual",
]


@pytest.mark.parametrize('password, hashed', PYCA_VECTORS)
def test_pyca_vectors(password, hashed):
    # pyca's test_hashpw_new (the same hash from the same salt); the variant letter is kept as given.
    _variant, cost, salt, _digest = _bcrypt.parse_hash(hashed)
    assert _bcrypt.hash_password(password, cost=cost, salt=salt)[7:] == hashed[7:]


@pytest.mark.parametrize('password, hashed', PYCA_NUL_VECTORS)
def test_pyca_vectors_with_nul_are_refused(password, hashed):
    # htpasswd and the registry read a password up to its first NUL; kiln refuses such a password
    # rather than hash something other than what the user typed.
    with pytest.raises(_bcrypt.BcryptError, match='NUL'):
        _bcrypt.hash_password(password, cost=_bcrypt.parse_hash(hashed)[1])


@pytest.mark.parametrize('password, hashed', PYCA_2Y_VECTORS)
def test_pyca_2y_vectors(password, hashed):
    assert _bcrypt.verify_password(password, hashed)


@pytest.mark.parametrize('password', PYCA_LONG_PASSWORDS)
def test_pyca_long_passwords(password):
    with pytest.raises(ValueError, match='at most 72 bytes'):
        _bcrypt.hash_password(password, cost=4)


@pytest.mark.parametrize('length, refused', [(71, False), (72, False), (73, True)])
def test_pyca_long_password_bound(length, refused):
    # pyca's test_hashpw_raises_correctly_for_long_passwords, with its salt
    salt = _bcrypt.parse_hash("$2b$04$xnFVhJsTzsFBTeP3PpgbMe" + "." * 31)[2]
    if refused:
        with pytest.raises(ValueError):
            _bcrypt.hash_password(b"\xaa" * length, cost=4, salt=salt)
    else:
        assert _bcrypt.hash_password(b"\xaa" * length, cost=4, salt=salt).startswith("$2b$04$xnFVhJsTzsFBTeP3PpgbMe")


def test_pyca_checkpw_wrong_password_bad_salt_and_extra_data():
    # pyca's test_checkpw_wrong_password, test_checkpw_bad_salt and test_checkpw_extra_data; where pyca
    # raises ValueError for a hash it cannot read, verify_password answers False.
    hashed = "$2b$04$2Siw3Nv3Q/gTOIPetAyPr.GNj3aO0lb1E5E9UumYGKjP9BYqlNWJe"
    assert not _bcrypt.verify_password(b"badpass", hashed)
    for bad in ("$2b$04$?Siw3Nv3Q/gTOIPetAyPr.GNj3aO0lb1E5E9UumYGKjP9BYqlNWJe",
                "$2b$3$mdEQPMOtfPX.WGZNXgF66OhmBlOGKEd66SQ7DyJPGucYYmvTJYviy", "$2b$12$incorrect",
                "$2b$04$2S\0w3Nv3Q/gTOIPetAyPr.GNj3aO0lb1E5E9UumYGKjP9BYqlNWJe", hashed + "extra", hashed[:-10]):
        assert not _bcrypt.verify_password(b"dEe6XfVGrrfSH", bad)
    assert _bcrypt.verify_password(b"dEe6XfVGrrfSH", hashed)
