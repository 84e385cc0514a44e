# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kiln.kaniko.plugins.filter.htpasswd import htpasswd, parse_htpasswd
from ansible_collections.kiln.kaniko.plugins.plugin_utils._bcrypt import verify_password

USERS = [{'name': 'ci', 'password': 'one'}, {'name': 'dev', 'password': 'two'}]


def test_new_file_in_order():
    text = htpasswd(USERS, cost=4)
    lines = text.splitlines()
    assert [line.split(':', 1)[0] for line in lines] == ['ci', 'dev'] and text.endswith('\n')
    entries = parse_htpasswd(text)
    assert verify_password('one', entries['ci']) and verify_password('two', entries['dev'])


def test_unchanged_users_keep_their_hashes():
    first = htpasswd(USERS, cost=4)
    assert htpasswd(USERS, current=first, cost=4) == first


def test_only_what_changed_is_hashed_again():
    first = parse_htpasswd(htpasswd(USERS, cost=4))
    current = ''.join('%s:%s\n' % item for item in first.items())
    changed = parse_htpasswd(htpasswd([{'name': 'ci', 'password': 'one'}, {'name': 'dev', 'password': 'new'}],
                                      current=current, cost=4))
    assert changed['ci'] == first['ci'] and changed['dev'] != first['dev']
    assert verify_password('new', changed['dev'])
    # Another cost means new hashes.
    assert parse_htpasswd(htpasswd(USERS, current=current, cost=5))['ci'].startswith('$2b$05$')


def test_removed_users_disappear_and_foreign_lines_are_ignored():
    current = htpasswd(USERS, cost=4) + '# comment\nold:$apr1$xyz\nnocolon\n'
    text = htpasswd(USERS[:1], current=current, cost=4)
    assert list(parse_htpasswd(text)) == ['ci']


def test_apache_2y_hash_of_the_same_password_is_kept():
    hashed = parse_htpasswd(htpasswd(USERS[:1], cost=4))['ci'].replace('$2b$', '$2y$', 1)
    assert htpasswd(USERS[:1], current='ci:%s\n' % hashed, cost=4) == 'ci:%s\n' % hashed


@pytest.mark.parametrize('users, message', [
    ('ci:one', 'must be a list'),
    ([{'name': 'ci'}], 'name and password'),
    ([{'name': 'a:b', 'password': 'x'}], 'without ":"'),
    ([{'name': '', 'password': 'x'}], 'non-empty'),
    ([{'name': 'ci', 'password': 'x'}, {'name': 'ci', 'password': 'y'}], 'listed twice'),
    ([{'name': 'ci', 'password': 'x' * 80}], 'user ci: a bcrypt password is at most 72 bytes'),
])
def test_invalid_users(users, message):
    with pytest.raises(AnsibleFilterError, match=message) as err:
        htpasswd(users, cost=4)
    assert 'x' * 80 not in str(err.value)
