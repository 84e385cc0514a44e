# -*- coding: utf-8 -*-
# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Show a kiln.kaniko.container_build's progress on the controller: the build action, for this module.

Everything is as for kiln.kaniko.build (plugins/action/build.py): the task's own module runs as an async job
on its host, the log is followed and the heartbeat touched at each poll, and the end of the play stops the
build, which removes its container.
"""

from __future__ import annotations

from ansible_collections.kiln.kaniko.plugins.action.build import ActionModule as BuildAction


class ActionModule(BuildAction):
    pass
