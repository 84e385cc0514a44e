# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""git.repo parsed once into a GitRemote: the forms the cluster can clone, the refusals, and git's own URL cases.

The cases marked t5500 come from git's t/t5500-fetch-pack.sh (the loops over ``git fetch-pack
--diag-url``, which prints how connect.c splits a URL), kept where our schemes cover them: git://
and ssh:// with and without user, port and IPv6 host, and scp-like user@host:path; git's
ssh+git:// and git+ssh://, file://, local paths and host:path without a user are refused here.
test_the_same_split_as_git_itself runs those URLs through the git on this host. Last, git.repo as the option that
build_spec checks.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.git_url import GitRemote, parse_git_remote
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._kaniko.helpers import invalid, make_spec

CLONABLE = "is not a URL the cluster can clone; use https://host/path, ssh://user@host/path, git://host/path or user@host:path"
SCHEME = "is not supported in the cluster; use https://, ssh://, git:// or user@host:path"
PASSWORD = ('git.repo: the URL carries a password or token, which would show in the pod; '
            'put it into a Secret and name it in git.secret')
OPTION_LIKE = ("which git refuses, as it could reach ssh or the server as an option; give the repository's URL "
               "as its server shows it")


def refused(text):
    with pytest.raises(ValidationError) as caught:
        parse_git_remote(text)
    assert caught.value.option == 'git.repo'
    return str(caught.value)


# (url, transport, user, host, port, path, credential scope)
ACCEPTED = [
    ('https://github.com/jpetazzo/container.training', 'https', None, 'github.com', None,
     '/jpetazzo/container.training', 'https://github.com'),
    ('https://user@git.example.com:8443/team/app.git', 'https', 'user', 'git.example.com', 8443, '/team/app.git',
     'https://git.example.com:8443'),
    ('http://git.lab:3000/team/app.git', 'http', None, 'git.lab', 3000, '/team/app.git', 'http://git.lab:3000'),
    ('https://builder@git.lab/app.git', 'https', 'builder', 'git.lab', None, '/app.git', 'https://git.lab'),
    ('https://[2001:db8::1]:8443/app.git', 'https', None, '2001:db8::1', 8443, '/app.git', 'https://[2001:db8::1]:8443'),
    ('https://git.example.com/app.git?ref=x#frag', 'https', None, 'git.example.com', None, '/app.git?ref=x#frag',
     'https://git.example.com'),
    # An empty port is the default one, for git as for Python's urlsplit.
    ('https://git.example.com:/app.git', 'https', None, 'git.example.com', None, '/app.git', 'https://git.example.com'),
    ('https://git.example.com', 'https', None, 'git.example.com', None, '', 'https://git.example.com'),
    ('git://git.lab/app.git', 'git', None, 'git.lab', None, '/app.git', 'git://git.lab'),
    ('git://git.lab:9418/~alice/app.git', 'git', None, 'git.lab', 9418, '~alice/app.git', 'git://git.lab:9418'),
    ('ssh://git@git.lab:2222/team/app.git', 'ssh', 'git', 'git.lab', 2222, '/team/app.git', 'ssh://git.lab:2222'),
    ('ssh://git.lab/app.git', 'ssh', None, 'git.lab', None, '/app.git', 'ssh://git.lab'),
    ('ssh://git@[::1]:22/~repo', 'ssh', 'git', '::1', 22, '~repo', 'ssh://[::1]:22'),
    ('ssh://git@git.lab/-x', 'ssh', 'git', 'git.lab', None, '/-x', 'ssh://git.lab'),  # '/-x' starts with '/'
    ('git@github.com:example/api.git', 'ssh', 'git', 'github.com', None, 'example/api.git', 'ssh://github.com'),
    ('git@github.com:/srv/api.git', 'ssh', 'git', 'github.com', None, '/srv/api.git', 'ssh://github.com'),
    ('git@github.com:/~alice/api.git', 'ssh', 'git', 'github.com', None, '~alice/api.git', 'ssh://github.com'),
    ('deploy.bot+ci@git-01.example.com:team/app.git', 'ssh', 'deploy.bot+ci', 'git-01.example.com', None,
     'team/app.git', 'ssh://git-01.example.com'),
]


@pytest.mark.parametrize('url, transport, user, host, port, path, scope', ACCEPTED)
def test_accepted_forms(url, transport, user, host, port, path, scope):
    remote = parse_git_remote(url)
    assert remote == GitRemote(url=url, transport=transport, host=host, path=path, port=port, user=user)
    assert remote.credential_scope == scope
    assert str(remote) == url


@pytest.mark.parametrize('url, transport, scope', [
    ('HTTP://git.example.com/app', 'http', 'http://git.example.com'),
    ('HTTPS://Git.Example.com/app', 'https', 'https://Git.Example.com'),
    ('SSH://git@git.lab/app.git', 'ssh', 'ssh://git.lab'),
    ('Git://git.lab/app.git', 'git', 'git://git.lab'),
])
def test_the_scheme_reaches_git_in_lower_case(url, transport, scope):
    # git picks its transport by the scheme as written ('HTTPS' is "not a git command").
    remote = parse_git_remote(url)
    assert (remote.transport, remote.credential_scope) == (transport, scope)
    assert remote.url == transport + url[len(transport):]


@pytest.mark.parametrize('url, message', [
    ('', "git.repo: '' is not a git URL"),
    ('https://github.com/org/app .git', "git.repo: 'https://github.com/org/app .git' is not a git URL"),
    ('https://github.com/org/app.git\n', "git.repo: 'https://github.com/org/app.git\n' is not a git URL"),
    ('https://github.com/org/\x00app.git', "git.repo: 'https://github.com/org/\x00app.git' is not a git URL"),
    ('file:///srv/git/app.git', "git.repo: the URL scheme 'file' " + SCHEME),
    ('FILE:///srv/app', "git.repo: the URL scheme 'file' " + SCHEME),
    ('ftp://example.com/app.git', "git.repo: the URL scheme 'ftp' " + SCHEME),
    ('ssh+git://host/repo', "git.repo: the URL scheme 'ssh+git' " + SCHEME),
    ('git+ssh://host/repo', "git.repo: the URL scheme 'git+ssh' " + SCHEME),
    ('https:///nohost', "git.repo: 'https:///nohost' has no host"),
    ('https://user@/app.git', "git.repo: 'https://user@/app.git' has no host"),
    ('https://:8443/app.git', "git.repo: 'https://:8443/app.git' has no host"),
    # git reads ssh://user@::1/repo as host ::1 (t5500); here an IPv6 host needs its brackets.
    ('ssh://user@::1/repo', "git.repo: 'ssh://user@::1/repo' has no host"),
    ('https://user:token@github.com/org/app.git', PASSWORD),
    ('https://user:@github.com/org/app.git', PASSWORD),
    ('ssh://git:secret@git.lab/app.git', PASSWORD),
    ('/srv/git/app.git', "git.repo: '/srv/git/app.git' " + CLONABLE),
    ('./app', "git.repo: './app' " + CLONABLE),
    ('example.com:app.git', "git.repo: 'example.com:app.git' " + CLONABLE),
    ('[::1]:repo', "git.repo: '[::1]:repo' " + CLONABLE),
    ('git@[::1]:repo', "git.repo: 'git@[::1]:repo' " + CLONABLE),
    ('git@github.com', "git.repo: 'git@github.com' " + CLONABLE),
    ('git@github.com:', "git.repo: 'git@github.com:' " + CLONABLE),
    ('https://[::1/app.git', "git.repo: 'https://[::1/app.git' " + CLONABLE),
    ('https://[::1]x/app.git', "git.repo: 'https://[::1]x/app.git' " + CLONABLE),
])
def test_refused_forms_keep_their_messages(url, message):
    assert refused(url) == message


@pytest.mark.parametrize('port', ['abc', '0', '65536', '99999', '-1', '+22', '１２'])
def test_a_port_git_could_not_use_is_refused(port):
    url = 'ssh://git@git.lab:{0}/app.git'.format(port)
    assert refused(url) == ("git.repo: '{0}' has the port '{1}'; give a port from 1 to 65535, or none for the "
                            "default".format(url, port))


@pytest.mark.parametrize('url, part, value', [
    # connect.c: "strange hostname '%s' blocked", "strange pathname '%s' blocked" (CVE-2017-1000117).
    ('ssh://-oProxyCommand=touch/repo', 'host', '-oProxyCommand=touch'),
    ('ssh://-Fevil@git.lab/repo', 'user', '-Fevil'),
    ('-oProxyCommand@git.lab:repo', 'user', '-oProxyCommand'),
    ('git@-oProxyCommand:repo', 'host', '-oProxyCommand'),
    ('git@git.lab:-repo', 'path', '-repo'),
    ('https://-evil.example.com/app.git', 'host', '-evil.example.com'),
    ('git://-host/app.git', 'host', '-host'),
])
def test_what_git_blocks_as_an_option_is_refused(url, part, value):
    assert refused(url) == "git.repo: '{0}': the {1} '{2}' starts with '-', {3}".format(url, part, value, OPTION_LIKE)


def test_a_user_starting_with_a_dash_is_harmless_over_https():
    assert parse_git_remote('https://-bot@git.lab/app.git').user == '-bot'


def _t5500_cases():
    """(url, user, host, port, path) of t5500's loops for git:// and ssh://, and of its scp-like loop with a user."""
    cases = []
    for repo in ('repo', 're:po', 're/po'):
        for scheme in ('git', 'ssh'):
            for authority, user, host in (('host', None, 'host'), ('user@host', 'user', 'host'),
                                          ('user@[::1]', 'user', '::1')):
                cases.append(('{0}://{1}/{2}'.format(scheme, authority, repo), user, host, None, '/' + repo))
                cases.append(('{0}://{1}/~{2}'.format(scheme, authority, repo), user, host, None, '~' + repo))
            for authority, user, host in (('host', None, 'host'), ('User@host', 'User', 'host'),
                                          ('User@[::1]', 'User', '::1')):
                cases.append(('{0}://{1}:22/{2}'.format(scheme, authority, repo), user, host, 22, '/' + repo))
        # t5500 has host:repo and [::1]:repo; the cluster needs the user of user@host:path.
        cases.append(('user@host:' + repo, 'user', 'host', None, repo))
        cases.append(('user@host:/~' + repo, 'user', 'host', None, '~' + repo))
    return cases


T5500 = _t5500_cases()


@pytest.mark.parametrize('url, user, host, port, path', T5500)
def test_git_s_own_url_cases(url, user, host, port, path):
    remote = parse_git_remote(url)
    assert (remote.user, remote.host, remote.port, remote.path) == (user, host, port, path)
    assert remote.transport == ('git' if url.startswith('git://') else 'ssh')


def _diag(directory, url):
    """What ``git fetch-pack --diag-url`` says of ``url``: {key: value}."""
    done = subprocess.run(['git', '-C', str(directory), 'fetch-pack', '--diag-url', url],
                          capture_output=True, text=True, check=True)
    return dict(line[len('Diag: '):].partition('=')[::2] for line in done.stdout.splitlines())


@pytest.mark.skipif(shutil.which('git') is None, reason='needs git')
def test_the_same_split_as_git_itself(tmp_path):
    subprocess.run(['git', 'init', '-q', str(tmp_path)], check=True)
    urls = [case[0] for case in T5500] + [case[0] for case in ACCEPTED if case[1] in ('ssh', 'git')]
    for url in urls:
        remote = parse_git_remote(url)
        diag = _diag(tmp_path, remote.url)
        user = remote.user + '@' if remote.user else ''
        assert (diag['protocol'], diag['path']) == (remote.transport, remote.path), url
        if remote.transport == 'ssh':
            assert (diag['userandhost'], diag['port']) == (user + remote.host, str(remote.port or 'NONE')), url
        else:  # git:// has no user: git leaves it in the host[:port], brackets and all
            assert diag['hostandport'] == user + remote.credential_scope[len('git://'):], url


# ---------------------------------------------------------------------------------------------------- as the option git.repo

@pytest.mark.parametrize('repo', [
    'file:///srv/git/app.git',
    'ftp://example.com/app.git',
    'FILE:///srv/app',
    '/srv/git/app.git',
    './app',
    'example.com:app.git',
    'https://user:token@github.com/org/app.git',
    'https:///nohost',
    'https://github.com/org/app .git',
])
def test_git_urls_the_cluster_cannot_use_are_refused(repo):
    assert invalid(git=dict(repo=repo)).option == 'git.repo'


def test_unsupported_scheme_is_named():
    assert "scheme 'file'" in str(invalid(git=dict(repo='file:///srv/app.git')))


@pytest.mark.parametrize('repo', [
    'https://github.com/jpetazzo/container.training',
    'http://git.lab:3000/team/app.git',
    'git://git.lab/app.git',
    'ssh://git@git.lab:2222/team/app.git',
    'git@github.com:example/api.git',
    'https://builder@git.lab/app.git',
])
def test_git_urls(repo):
    assert make_spec(git=dict(repo=repo)).git.repo.url == repo
