#!/usr/bin/env bash
# sign and sbom on the lab cluster, run at -vvv. The key pair is made by cosign itself into a Secret
# (cosign generate-key-pair k8s://<namespace>/<name>); the playbook builds, signs and attests (with cosign 2 in
# the pod, and once with cosign 3); then the lab's cosign v2 and v3 each check the signatures and the SPDX
# attestations with cosign.pub, and must refuse the same source pushed unsigned elsewhere; regctl and cosign 3's
# tree read the unsigned SBOM the module attached as an OCI artifact. The password must reach neither the playbook's output, the
# module results, the kept pods nor the events, while each of those shows what it should (the scan can see).
set -eu
set -o pipefail
here=$(pwd)
out=$(mktemp -d)
config=../../integration_config.yml
value() { python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "$config" "$1"; }
cosign=$(value kiln_lab_cosign)
cosign3=$(value kiln_lab_cosign3)
regctl=$(value kiln_lab_regctl)
kubectl=$(value kiln_lab_kubectl)
registry=$(value kiln_lab_registry)
KUBECONFIG=$(value kiln_lab_kubeconfig)
export KUBECONFIG
ns="kiln-it-supply-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"
trap '"$kubectl" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
for tool in "$cosign" "$cosign3" "$regctl"; do
    [ -x "$tool" ] || { echo "build_supply: no $tool (tests/lab builds it: lab.py go supply)" >&2; exit 1; }
done
KILN_TEST_COSIGN3_VERSION=$("$cosign3" version 2>/dev/null | awk '$1 == "GitVersion:" {print $2}')
export KILN_TEST_COSIGN3_VERSION

# Long and random, so that nothing else matches it and Ansible's masking of no_log values cannot hide it:
# the build module never knows it.
password="kiln-cosign-password-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
"$kubectl" create namespace "$ns" >/dev/null
(cd "$out" && COSIGN_PASSWORD="$password" "$cosign" generate-key-pair "k8s://$ns/cosign-keys" >/dev/null)
# The same key with a wrong password, and a Secret that lacks cosign.key.
"$kubectl" -n "$ns" get secret cosign-keys -o jsonpath='{.data.cosign\.key}' | base64 -d >"$out/cosign.key"
"$kubectl" -n "$ns" create secret generic cosign-wrong --from-file=cosign.key="$out/cosign.key" \
    --from-file=cosign.pub="$out/cosign.pub" --from-literal=cosign.password=not-the-password >/dev/null
"$kubectl" -n "$ns" create secret generic cosign-half --from-file=cosign.pub="$out/cosign.pub" >/dev/null
rm -f "$out/cosign.key"

export KILN_TEST_NS="$ns" KILN_TEST_OUT="$out"
status=0
ansible-playbook -vvv -i ../../inventory -e @"$config" "$here/playbook.yml" >"$out/play.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    grep -A80 -e '^fatal:' -e '^failed:' "$out/play.log" | head -240 || true
    tail -25 "$out/play.log"
    cp "$out/play.log" /tmp/build_supply-failed-play.log  # for a closer look; the scan below never ran on it
    echo "build_supply: the playbook failed ($status)" >&2
    exit 1
fi

flags=(--insecure-ignore-tlog=true --allow-http-registry --allow-insecure-registry)
signed="$registry/$ns/app@$(cat "$out/signed.digest")"
unsigned="$registry/$ns/unsigned@$(cat "$out/unsigned.digest")"
late="$registry/$ns/late@$(cat "$out/late.digest")"
failures=0
check() {  # check <what> <want: pass|fail> command...
    local what=$1 want=$2
    shift 2
    if "$@" >"$out/check.log" 2>&1; then got=pass; else got=fail; fi
    echo "build_supply: $what: $got (want $want)"
    if [ "$got" != "$want" ]; then
        tail -5 "$out/check.log"
        failures=$((failures + 1))
    fi
}
app3="$registry/$ns/app3@$(cat "$out/app3.digest")"
read -r -a digests <"$out/multi.digests" || [ "${#digests[@]}" -gt 0 ]
# Each cosign, each form: what the collection signs must verify with cosign 2 and cosign 3 alike.
for verifier in "$cosign" "$cosign3"; do
    v=$("$verifier" version 2>/dev/null | awk '$1 == "GitVersion:" {print $2}')
    start=$(date +%s%N)
    check "$v: cosign verify of the signed build" pass "$verifier" verify --key "$out/cosign.pub" "${flags[@]}" "$signed"
    check "$v: cosign verify-attestation --type spdxjson of the signed build" pass \
        "$verifier" verify-attestation --type spdxjson --key "$out/cosign.pub" "${flags[@]}" "$signed"
    check "$v: cosign verify of the same source pushed unsigned" fail \
        "$verifier" verify --key "$out/cosign.pub" "${flags[@]}" "$unsigned"
    # The index, then each platform's image.
    for digest in "${digests[@]}"; do
        check "$v: cosign verify of $registry/$ns/multi@${digest:0:19}" pass \
            "$verifier" verify --key "$out/cosign.pub" "${flags[@]}" "$registry/$ns/multi@$digest"
    done
    check "$v: cosign verify of the build signed later" pass \
        "$verifier" verify --key "$out/cosign.pub" "${flags[@]}" "$late"
    check "$v: cosign verify-attestation of the SBOM added later" pass \
        "$verifier" verify-attestation --type spdxjson --key "$out/cosign.pub" "${flags[@]}" "$late"
    check "$v: cosign verify of the build cosign 3 signed in the pod" pass \
        "$verifier" verify --key "$out/cosign.pub" "${flags[@]}" "$app3"
    check "$v: cosign verify-attestation of the build cosign 3 attested in the pod" pass \
        "$verifier" verify-attestation --type spdxjson --key "$out/cosign.pub" "${flags[@]}" "$app3"
    echo "build_supply: $v verified $((5 + ${#digests[@]} + 2)) cases in $(( ($(date +%s%N) - start) / 1000000 )) ms"
done

# The unsigned SBOM: an OCI artifact that refers to the image, read by clients other than the collection.
sbom_image="$registry/$ns/sbom@$(cat "$out/sbom.digest")"
sbom_ref=$(cat "$out/sbom.reference")
reg() {  # regctl with a configuration of its own: plain HTTP for the lab registry, nowhere else
    HOME="$out/regctl-home" "$regctl" "$@"
}
mkdir -p "$out/regctl-home"
reg registry set --tls disabled "$registry" >/dev/null
listed() {
    reg artifact list "$sbom_image" --filter-artifact-type application/spdx+json \
        --format '{{range .Descriptors}}{{.Digest}}{{"\n"}}{{end}}' | grep -qx "${sbom_ref#*@}"
}
in_tree() {
    "$cosign3" tree --allow-http-registry --allow-insecure-registry "$sbom_image" 2>&1 \
        | grep -qF "via OCI referrer: $sbom_ref"
}
check "regctl artifact list finds the SBOM artifact the module named" pass listed
reg artifact get --subject "$sbom_image" --filter-artifact-type application/spdx+json >"$out/regctl-sbom.json" || true
check "regctl artifact get gives the SBOM sbom.dest holds" pass cmp "$out/regctl-sbom.json" "$out/unsigned-sbom.json"
check "cosign 3's tree shows it via OCI referrer" pass in_tree
# The attestation's predicate is the SBOM the module wrote to sbom.dest.
"$cosign" verify-attestation --type spdxjson --key "$out/cosign.pub" "${flags[@]}" "$signed" 2>/dev/null \
    | head -1 | python3 -c '
import base64, json, sys
statement = json.loads(base64.b64decode(json.loads(sys.stdin.read())["payload"]))
written = json.load(open(sys.argv[1]))
assert statement["predicateType"] == "https://spdx.dev/Document", statement["predicateType"]
assert statement["predicate"] == written, "sbom.dest differs from the attested SBOM"
assert written["spdxVersion"].startswith("SPDX-"), written.get("spdxVersion")
print("build_supply: sbom.dest is the attested SBOM ({0} packages)".format(len(written.get("packages") or [])))
' "$out/sbom.json" || failures=$((failures + 1))

encoded=$(printf '%s' "$password" | base64 -w0)
hits=0
for name in play.log results.json pods.json events.json; do
    file="$out/$name"
    [ -s "$file" ] || { echo "build_supply: $name was not written" >&2; failures=$((failures + 1)); continue; }
    n=$(grep -c -F -e "$password" -e "${password#kiln-cosign-password-}" -e "$encoded" "$file" || true)
    case $name in
        events.json) seen=$(grep -c '"reason": "Started"' "$file" || true) ;;
        *) seen=$(grep -c 'cosign-keys' "$file" || true) ;;
    esac
    echo "build_supply: $n password(s) in $name ($(wc -l <"$file") lines; $seen control line(s))"
    [ "$seen" -gt 0 ] || { echo "build_supply: $name does not show what it should: the scan is blind" >&2; failures=$((failures + 1)); }
    hits=$((hits + n))
done
[ "$failures" -eq 0 ] && [ "$hits" -eq 0 ]
