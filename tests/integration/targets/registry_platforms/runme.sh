#!/usr/bin/env bash
# Runs its tasks from a playbook, as the registry target does, so that tasks/run_role.yml can count what
# a run of the role changed (PLAY RECAP of a playbook of its own).
set -eux
extra=()
if [ -f ../../integration_config.yml ]; then
    extra=(-e @../../integration_config.yml)
fi
ansible-playbook playbook.yml -i "${INVENTORY_PATH}" "${extra[@]}" "$@"
