# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._registry.challenge import parse_challenges, pick_challenge


def as_tuples(header):
    return [(c.scheme, c.params) for c in parse_challenges(header)]


def test_distribution_token_challenge():
    header = ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
              'scope="repository:library/busybox:pull"')
    assert as_tuples(header) == [('bearer', {
        'realm': 'https://auth.docker.io/token',
        'service': 'registry.docker.io',
        'scope': 'repository:library/busybox:pull',
    })]


def test_htpasswd_basic_challenge():
    assert as_tuples('Basic realm="kiln registry"') == [('basic', {'realm': 'kiln registry'})]


def test_insufficient_scope_with_commas_in_quotes_and_spaces():
    header = ('Bearer  realm = "https://r.example/token" , service="r.example", '
              'scope="repository:a/b:pull,push", error="insufficient_scope"')
    [(scheme, params)] = as_tuples(header)
    assert scheme == 'bearer'
    assert params['scope'] == 'repository:a/b:pull,push'
    assert params['error'] == 'insufficient_scope'
    assert params['realm'] == 'https://r.example/token'


def test_several_challenges_in_one_header():
    header = 'Basic realm="a, b", Bearer realm="https://t/token",service=s, Negotiate'
    assert as_tuples(header) == [
        ('basic', {'realm': 'a, b'}),
        ('bearer', {'realm': 'https://t/token', 'service': 's'}),
        ('negotiate', {}),
    ]


def test_escapes_token68_and_case():
    assert as_tuples(r'BASIC Realm="say \"hi\" \\ there"') == [('basic', {'realm': 'say "hi" \\ there'})]
    assert as_tuples('Negotiate abc+/def==') == [('negotiate', {'token68': 'abc+/def=='})]


@pytest.mark.parametrize('header', ['', None, ',,, ', '"', 'Bearer realm="unterminated'])
def test_malformed_never_raises(header):
    parse_challenges(header)


def test_unterminated_quote_keeps_what_is_there():
    assert as_tuples('Bearer realm="https://t/token') == [('bearer', {'realm': 'https://t/token'})]


def test_pick_prefers_bearer():
    picked = pick_challenge(parse_challenges('Basic realm="r", Bearer realm="https://t"'))
    assert picked.scheme == 'bearer' and picked.get('realm') == 'https://t'
    assert pick_challenge(parse_challenges('Negotiate')) is None
    assert pick_challenge(parse_challenges('Basic realm="r"')).get('missing', 'x') == 'x'
