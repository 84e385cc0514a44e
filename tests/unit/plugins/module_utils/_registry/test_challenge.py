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


# Upstream parsers' own cases: (source, header, expected challenges).
UPSTREAM_CHALLENGES = [
    ('distribution/distribution registry/client/auth/challenge/authchallenge_test.go TestAuthChallengeParse',
     'Bearer realm="https://auth.example.com/token",service="registry.example.com",other=fun,slashed="he\\"\\l\\lo"',
     [('bearer', {'realm': 'https://auth.example.com/token', 'service': 'registry.example.com', 'other': 'fun',
                  'slashed': 'he"llo'})]),
    ('distribution/distribution authchallenge_test.go testAuthChallengeNormalization',
     'Bearer realm="https://reg.EXAMPLE.com/token",service="registry.example.com"',
     [('bearer', {'realm': 'https://reg.EXAMPLE.com/token', 'service': 'registry.example.com'})]),
    ('containerd/containerd remotes/docker/auth/parse_test.go TestParseAuthHeaderBearer SingleScope',
     'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:foo/bar:pull,push"',
     [('bearer', {'realm': 'https://auth.docker.io/token', 'service': 'registry.docker.io',
                  'scope': 'repository:foo/bar:pull,push'})]),
    ('containerd/containerd remotes/docker/auth/parse_test.go TestParseAuthHeaderBearer MultipleScopes',
     'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
     'scope="repository:foo/bar:pull,push repository:foo/baz:pull repository:foo/foo:push"',
     [('bearer', {'realm': 'https://auth.docker.io/token', 'service': 'registry.docker.io',
                  'scope': 'repository:foo/bar:pull,push repository:foo/baz:pull repository:foo/foo:push'})]),
    ('containerd/containerd remotes/docker/auth/parse_test.go TestParseAuthHeader',
     'Bearer realm="https://auth.example.io/token",empty="",service="registry.example.io",'
     'scope="repository:library/hello-world:pull,push"',
     [('bearer', {'realm': 'https://auth.example.io/token', 'empty': '', 'service': 'registry.example.io',
                  'scope': 'repository:library/hello-world:pull,push'})]),
    # RFC 7230 section 7: a list may hold empty elements, which a recipient must accept. distribution and
    # containerd stop at the empty element (and so see no realm); the RFC is followed here.
    ('RFC 7230 section 7, empty list element', 'Basic , realm="foo"', [('basic', {'realm': 'foo'})]),
    ('RFC 7230 section 7, empty list elements', 'Bearer realm="r",, ,service="s"',
     [('bearer', {'realm': 'r', 'service': 's'})]),
    # A header folded over lines (obs-fold, RFC 7230 section 3.2.4) reaching the parser unfolded;
    # distribution counts CR and LF as white space as well.
    ('RFC 7230 section 3.2.4, folded header', 'Bearer realm="https://t/token",\r\n service="s"',
     [('bearer', {'realm': 'https://t/token', 'service': 's'})]),
    ('RFC 7230 section 3.2.4, folded after the scheme', 'Basic\r\n\trealm="foo"', [('basic', {'realm': 'foo'})]),
]


@pytest.mark.parametrize('source, header, expected', UPSTREAM_CHALLENGES, ids=[c[0] for c in UPSTREAM_CHALLENGES])
def test_upstream_challenges(source, header, expected):
    assert as_tuples(header) == expected


def test_an_empty_element_does_not_take_the_next_challenge():
    assert as_tuples('Negotiate , Basic realm="r"') == [('negotiate', {}), ('basic', {'realm': 'r'})]
