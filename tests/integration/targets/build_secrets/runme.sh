#!/usr/bin/env bash
# A build with registry_auth, a git token and an SSH key Secret, run at -vvv: none of the secret
# values may appear in the playbook output, the module result, the kept pod or the events.
set -eu
set -o pipefail
here=$(pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

KILN_TEST_REGISTRY_PASSWORD="registry-pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export KILN_TEST_REGISTRY_PASSWORD
export KILN_TEST_DUMP="$out/cluster.json"

status=0
ansible-playbook -vvv -i ../../inventory -e @../../integration_config.yml "$here/playbook.yml" >"$out/play.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    tail -60 "$out/play.log"
    echo "build_secrets: the playbook failed ($status)" >&2
    exit 1
fi

# The values to look for: the registry password, the git token (the lab's HTTP password) and
# every line of the SSH private key's body.
token=$(python3 -c 'import yaml,sys; print(yaml.safe_load(open(sys.argv[1]))["kiln_lab_git_http_password"])' ../../integration_config.yml)
key=$(python3 -c 'import yaml,sys; print(yaml.safe_load(open(sys.argv[1]))["kiln_lab_git_ssh_key"])' ../../integration_config.yml)
needles="$out/needles"
{
    echo "$KILN_TEST_REGISTRY_PASSWORD"
    echo "$token"
    printf '%s' "$KILN_TEST_REGISTRY_PASSWORD" | base64 -w0; echo
    grep -v -- '-----' "$key"
} >"$needles"

# The scan must be able to fail: its patterns do match the key file they came from.
grep -q -F -f "$needles" "$key" || { echo "build_secrets: the patterns match nothing, the scan is blind" >&2; exit 1; }
test -s "$KILN_TEST_DUMP" || { echo "build_secrets: no cluster dump was written" >&2; exit 1; }
grep -q '"kind": "Pod"' "$KILN_TEST_DUMP" || { echo "build_secrets: the dump holds no pod" >&2; exit 1; }
grep -q 'Built and pushed' "$out/play.log" || { echo "build_secrets: the build did not run" >&2; exit 1; }

hits=0
for file in "$out/play.log" "$KILN_TEST_DUMP"; do
    n=$(grep -c -F -f "$needles" "$file" || true)
    echo "build_secrets: $n secret value(s) found in $(basename "$file") ($(wc -l <"$file") lines scanned)"
    hits=$((hits + n))
done
[ "$hits" -eq 0 ]
