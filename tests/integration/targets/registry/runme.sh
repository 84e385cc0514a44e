#!/usr/bin/env bash
# A role target called "registry" would run the collection's own role kiln.kaniko.registry (a play in
# the collection resolves bare role names there first), so this target runs its tasks from a playbook.
set -eux
extra=()
if [ -f ../../integration_config.yml ]; then
    extra=(-e @../../integration_config.yml)
fi
ansible-playbook playbook.yml -i "${INVENTORY_PATH}" "${extra[@]}" "$@"
