# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Option build_secrets: keys of Secrets that the Dockerfile's RUN --mount=type=secret,id=<id> reads. Pure.

The check of its entries (spec_build.build_spec calls it), and what the kaniko container gets from them
(pod/render.py places it): one projected volume of the Secrets' keys, one file per id, mounted read-only; one
``--secret id=<id>,src=<file>`` per entry; and FF_KANIKO_RUN_MOUNT_SECRET, without which Kaniko v1.26
ignores --mount=type=secret (pkg/commands/run.go; the default from v1.27). Only names pass through here:
the values stay in the cluster, the kubelet writes them into the volume, and run/prepare.py checks that each
Secret has its key.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Iterable, Mapping

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec import grammar
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSecret, BuildSpec

# Kaniko's --secret parser splits its value on ',' and then on '=' (pkg/config/options.go,
# SecretOptions.Set), and the id is also the file's name in the volume: so letters, digits, '.', '_'
# and '-', not starting with '.' (no '..', no hidden file) or '-'.
ID_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9._-]*$')
ID_MAX = 253
# Under Kaniko's own directory, which it leaves out of every snapshot, so that no layer can take the
# files; not /kaniko/secrets, where Kaniko copies them itself for the RUN steps.
MOUNT_DIR = '/kaniko/build-secrets'
VOLUME = 'build-secrets'
# Read by Kaniko, which runs as root, and nobody else.
FILE_MODE = 0o400
FEATURE_FLAG = 'FF_KANIKO_RUN_MOUNT_SECRET'

_REQUIRED = {
    'id': 'the id that RUN --mount=type=secret,id=<id> names in the Dockerfile, such as npm_token',
    'secret': 'the name of the Secret in namespace that holds the value',
    'key': 'the key of that Secret that holds the value, such as token',
}


def _entry(where: str, item: Mapping[str, Any]) -> BuildSecret:
    """The BuildSecret of one entry of build_secrets, at ``where`` (build_secrets[n])."""
    for option in ('id', 'secret', 'key'):
        if not item.get(option):
            raise ValidationError('{0}.{1}'.format(where, option), 'is required: ' + _REQUIRED[option])
    secret_id, secret, key = item['id'], item['secret'], item['key']
    if not ID_RE.match(secret_id) or len(secret_id) > ID_MAX:
        raise ValidationError(where + '.id', "'{0}' is not an id Kaniko's --secret can take (it splits on ',' and "
                                             "'='); use letters, digits, '.', '_' and '-', not starting with '.' "
                                             "or '-', such as npm_token".format(secret_id))
    problem = grammar.dns_subdomain_problem(secret)
    if problem:
        raise ValidationError(where + '.secret', "'{0}': {1}".format(secret, problem))
    if not grammar.is_config_key(key):
        raise ValidationError(where + '.key', "'{0}' is not a key of a Secret (letters, digits, -, _ and .), "
                                              "such as token".format(key))
    return BuildSecret(id=secret_id, secret=secret, key=key)


def check(values: Iterable[Mapping[str, Any]] | None) -> tuple[BuildSecret, ...]:
    """The BuildSecrets of option build_secrets, in order; each id once."""
    entries = []
    seen: dict[str, str] = {}
    for index, item in enumerate(values or ()):
        where = 'build_secrets[{0}]'.format(index)
        entry = _entry(where, item)
        if entry.id in seen:
            raise ValidationError(where + '.id', "'{0}' is also the id of {1}; give each secret an id of its "
                                                 "own".format(entry.id, seen[entry.id]))
        seen[entry.id] = where
        entries.append(entry)
    return tuple(entries)


def path(entry: BuildSecret) -> str:
    """Where the value of ``entry`` (a BuildSecret) is in the kaniko container."""
    return posixpath.join(MOUNT_DIR, entry.id)


def kaniko_args(spec: BuildSpec) -> list[str]:
    """The --secret flags: the id and the file, never the value."""
    return ['--secret=id={0},src={1}'.format(entry.id, path(entry)) for entry in spec.build_secrets]


def volumes(spec: BuildSpec) -> list[dict[str, Any]]:
    """The projected volume of every entry's key, each at the file named by its id; none without build_secrets."""
    if not spec.build_secrets:
        return []
    sources = [{'secret': {'name': entry.secret, 'items': [{'key': entry.key, 'path': entry.id}]}}
               for entry in spec.build_secrets]
    return [{'name': VOLUME, 'projected': {'sources': sources, 'defaultMode': FILE_MODE}}]


def mounts(spec: BuildSpec) -> list[dict[str, Any]]:
    """The read-only mount of that volume, for the kaniko container only."""
    return [{'name': VOLUME, 'mountPath': MOUNT_DIR, 'readOnly': True}] if spec.build_secrets else []


def env(spec: BuildSpec) -> list[dict[str, str]]:
    """The environment the kaniko container needs for the secrets: the feature flag, and no value."""
    return [{'name': FEATURE_FLAG, 'value': '1'}] if spec.build_secrets else []
