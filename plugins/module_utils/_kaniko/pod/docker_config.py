# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The docker config.json of registry_auth, as Kaniko reads it from /kaniko/.docker: pure.

The build pod gets it as the short-lived Secret pod.render_auth_secret renders; kiln.kaniko.container_build
as a 0600 file of the build's private directory.
"""

from __future__ import annotations

import base64
import json

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec


def docker_config(spec: BuildSpec) -> str:
    """The docker config.json (text) that holds spec.registry_auth."""
    auths: dict[str, dict[str, str]] = {}
    for credential in spec.registry_auth:
        pair = '{0}:{1}'.format(credential.username, credential.password)
        auths[credential.server] = {'auth': base64.b64encode(pair.encode('utf-8')).decode('ascii')}
    return json.dumps({'auths': auths}, sort_keys=True, separators=(',', ':'))
