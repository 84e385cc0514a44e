# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Option build_secrets: keys of Secrets that the Dockerfile's RUN --mount=type=secret,id=<id> reads. Pure.

The check of its entries (spec_build.build_spec calls it). Only names pass through here: the values stay
in the cluster.
"""

from __future__ import annotations

import re

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import references as ref
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import BuildSecret

# Kaniko's --secret parser splits its value on ',' and then on '=' (pkg/config/options.go,
# SecretOptions.Set), and the id is also the file's name in the volume: so letters, digits, '.', '_'
# and '-', not starting with '.' (no '..', no hidden file) or '-'.
ID_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9._-]*$')
ID_MAX = 253
# Kubernetes' rule for the keys of a Secret (IsConfigMapKey).
KEY_RE = re.compile(r'^[-._a-zA-Z0-9]+$')

_REQUIRED = {
    'id': 'the id that RUN --mount=type=secret,id=<id> names in the Dockerfile, such as npm_token',
    'secret': 'the name of the Secret in namespace that holds the value',
    'key': 'the key of that Secret that holds the value, such as token',
}


def _entry(where, item):
    """The BuildSecret of one entry of build_secrets, at ``where`` (build_secrets[n])."""
    for option in ('id', 'secret', 'key'):
        if not item.get(option):
            raise ValidationError('{0}.{1}'.format(where, option), 'is required: ' + _REQUIRED[option])
    secret_id, secret, key = item['id'], item['secret'], item['key']
    if not ID_RE.match(secret_id) or len(secret_id) > ID_MAX:
        raise ValidationError(where + '.id', "'{0}' is not an id Kaniko's --secret can take (it splits on ',' and "
                                             "'='); use letters, digits, '.', '_' and '-', not starting with '.' "
                                             "or '-', such as npm_token".format(secret_id))
    problem = ref.dns_subdomain_problem(secret)
    if problem:
        raise ValidationError(where + '.secret', "'{0}': {1}".format(secret, problem))
    if not KEY_RE.match(key) or len(key) > 253 or key.startswith('..') or key == '.':
        raise ValidationError(where + '.key', "'{0}' is not a key of a Secret (letters, digits, -, _ and .), "
                                              "such as token".format(key))
    return BuildSecret(id=secret_id, secret=secret, key=key)


def check(values):
    """The BuildSecrets of option build_secrets, in order; each id once."""
    entries = []
    seen = {}
    for index, item in enumerate(values or ()):
        where = 'build_secrets[{0}]'.format(index)
        entry = _entry(where, item)
        if entry.id in seen:
            raise ValidationError(where + '.id', "'{0}' is also the id of {1}; give each secret an id of its "
                                                 "own".format(entry.id, seen[entry.id]))
        seen[entry.id] = where
        entries.append(entry)
    return tuple(entries)

