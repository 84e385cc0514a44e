# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: htpasswd
short_description: An htpasswd file with bcrypt hashes that stays the same while the passwords do
version_added: 0.1.0
description:
  - Returns the text of an htpasswd file for the users given, one C(name:hash) line each, in the order given.
    The distribution registry reads such a file and accepts bcrypt hashes only.
  - A user's line of O(current) is kept when its hash matches the password and has the cost asked for;
    only users that are new, or whose password or cost changed, get a new hash with a random salt.
    Running the filter twice on the same input thus returns the same text, so a task that writes it reports
    no change.
  - bcrypt is computed in Python on the controller; no C(htpasswd) binary, passlib or C(crypt) is needed.
    Each user costs one bcrypt computation per call (about 0.3 seconds at cost 5).
options:
  _input:
    description:
      - The users, each a dictionary with C(name) and C(password).
      - A name must not contain V(:) or a line break, and names must be unique.
      - A password is at most 72 bytes long in UTF-8 (bcrypt ignores anything after that, so longer
        ones are refused rather than cut).
    type: list
    elements: dict
    required: true
  current:
    description:
      - The text of the htpasswd file as it is now, for example read back from a Secret. Empty when there is none.
    type: str
    default: ''
  cost:
    description:
      - The bcrypt cost (log2 of the number of rounds), from 4 to 16.
      - The registry checks the hash on every authenticated request, which is why C(htpasswd -B) defaults to 5.
    type: int
    default: 5
author:
  - kiln.kaniko maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Read the htpasswd Secret as it is
  kubernetes.core.k8s_info:
    kind: Secret
    namespace: registry
    name: registry-htpasswd
  register: current_htpasswd

- name: Write it for the users wanted; unchanged users keep their hashes
  kubernetes.core.k8s:
    definition:
      apiVersion: v1
      kind: Secret
      metadata:
        name: registry-htpasswd
        namespace: registry
      stringData:
        htpasswd: >-
          {{ registry_users | kiln.kaniko.htpasswd(
               current=(current_htpasswd.resources[0].data.htpasswd | default('') | b64decode)
                 if current_htpasswd.resources else '') }}
  no_log: true
"""

RETURN = r"""
_value:
  description: The htpasswd text, one C(name:$2b$...) line per user, each ending with a line break.
  type: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.kiln.kaniko.plugins.plugin_utils._bcrypt import (
    BcryptError,
    hash_password,
    parse_hash,
    verify_password,
)


def parse_htpasswd(text):
    """{name: hash} of an htpasswd text; lines without a colon and comments are skipped."""
    entries = {}
    for line in to_text(text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#') or ':' not in line:
            continue
        name, hashed = line.split(':', 1)
        entries.setdefault(name, hashed)
    return entries


def _users(value):
    if not isinstance(value, (list, tuple)):
        raise AnsibleFilterError('htpasswd: the input must be a list of users (dictionaries with name and password)')
    users = []
    seen = set()
    for index, user in enumerate(value):
        if not isinstance(user, dict) or 'name' not in user or 'password' not in user:
            raise AnsibleFilterError('htpasswd: user %d must be a dictionary with name and password' % (index + 1))
        name = to_text(user['name'])
        if not name or ':' in name or '\n' in name or '\r' in name:
            raise AnsibleFilterError('htpasswd: user %d: a name must be non-empty, without ":" or line breaks' % (index + 1))
        if name in seen:
            raise AnsibleFilterError('htpasswd: user %s is listed twice' % name)
        seen.add(name)
        users.append((name, to_text(user['password'])))
    return users


def htpasswd(value, current='', cost=5):
    users = _users(value)
    existing = parse_htpasswd(current)
    lines = []
    for name, password in users:
        hashed = existing.get(name)
        parsed = parse_hash(hashed)
        try:
            if not (parsed and parsed[1] == cost and verify_password(password, hashed)):
                hashed = hash_password(password, cost=cost)
        except BcryptError as exc:
            # The message never contains the password.
            raise AnsibleFilterError('htpasswd: user %s: %s' % (name, exc)) from None
        lines.append('%s:%s\n' % (name, hashed))
    return ''.join(lines)


class FilterModule(object):

    def filters(self):
        return {'htpasswd': htpasswd}
