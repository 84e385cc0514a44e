#!/usr/bin/env bash
# A build with registry_auth, a git token and an SSH key Secret, run at -vvv: none of the secret
# values may appear in the playbook output, the module results, the kept pods (spec and status),
# the namespace's events or the build logs. The scan proves it can see: a canary value planted in
# the pods' annotations and in an event of the namespace must be found in each of those places.
set -eu
set -o pipefail
here=$(pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

KILN_TEST_REGISTRY_PASSWORD="registry-pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export KILN_TEST_REGISTRY_PASSWORD
KILN_TEST_CANARY="kiln-canary-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export KILN_TEST_CANARY
export KILN_TEST_OUT="$out"

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
    printf '%s' "$KILN_TEST_REGISTRY_PASSWORD" | base64 -w0; echo
    printf '%s' "kiln-it:$KILN_TEST_REGISTRY_PASSWORD" | base64 -w0; echo   # the auth of a docker config
    echo "$token"
    printf '%s' "$token" | base64 -w0; echo
    printf '%s' "x-access-token:$token" | base64 -w0; echo                  # a basic-auth header with it
    grep -v -- '-----' "$key"
} >"$needles"
canary="$out/canary"
echo "$KILN_TEST_CANARY" >"$canary"

# The patterns can match: they do match the key file they came from.
grep -q -F -f "$needles" "$key" || { echo "build_secrets: the patterns match nothing, the scan is blind" >&2; exit 1; }
grep -q 'Built and pushed' "$out/play.log" || { echo "build_secrets: the build did not run" >&2; exit 1; }

hits=0
blind=0
# Where a secret could leak, and whether the canary was planted there.
for spec in play.log:canary results.json:canary pods.json:canary events.json:canary \
            token-build.log:log ssh-build.log:log; do
    name=${spec%%:*}
    kind=${spec#*:}
    file="$out/$name"
    if [ ! -s "$file" ]; then
        echo "build_secrets: $name was not written" >&2
        blind=$((blind + 1))
        continue
    fi
    n=$(grep -c -F -f "$needles" "$file" || true)
    if [ "$kind" = canary ]; then
        seen=$(grep -c -F -f "$canary" "$file" || true)
        [ "$seen" -gt 0 ] || { echo "build_secrets: the canary is not in $name: the scan does not see it" >&2; blind=$((blind + 1)); }
    else
        seen=$(grep -c -e 'Pushed' -e 'kiln clone: checked out' "$file" || true)
        [ "$seen" -gt 0 ] || { echo "build_secrets: $name holds no build log" >&2; blind=$((blind + 1)); }
    fi
    echo "build_secrets: $n secret value(s) in $name ($(wc -l <"$file") lines; $seen canary or log line(s) seen)"
    hits=$((hits + n))
done
[ "$blind" -eq 0 ] && [ "$hits" -eq 0 ]
