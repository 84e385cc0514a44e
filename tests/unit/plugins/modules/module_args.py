# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""patch_module_args on every ansible-core that meta/runtime.yml claims: ansible.module_utils.testing has it from
2.19 on; before that AnsibleModule reads its arguments from ansible.module_utils.basic._ANSIBLE_ARGS. And
run_main, a module's main() run to its exit_json or fail_json, as the tests of every module run it."""

from __future__ import annotations

import contextlib
import json

import pytest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Give AnsibleModule ``args`` as its module arguments inside the block."""
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


def run_main(capsys, main, args, check_mode=False):
    """The result ``main`` printed for module arguments ``args`` (in check mode when asked)."""
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            main()
    return json.loads(capsys.readouterr().out)


__all__ = ['patch_module_args', 'run_main']
