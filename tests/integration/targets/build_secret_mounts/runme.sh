#!/usr/bin/env bash
# build_secrets on the lab cluster, run at -vvv. The value of the Secret that a RUN --mount=type=secret step
# reads must reach no layer or configuration blob of the image or of its layer cache (each downloaded from the
# registry and decompressed), nor the playbook's output, the module results, the kept pod (spec and status),
# the namespace's events or the build log; while the image must hold its sha256 in /token.sha256, which proves
# that the step did read it. The scan proves it can see: the sha256 is found in the decompressed layers, and
# the Secret's name (which is no secret) in each of the other files.
set -eu
set -o pipefail
here=$(pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Long and random, so that nothing else matches it, and the masking of no_log values cannot hide it: the build
# module does not know it, and the only task that does (the Secret's creation) is no_log.
random=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
KILN_TEST_BUILD_SECRET="kiln-build-secret-$random"
export KILN_TEST_BUILD_SECRET
export KILN_TEST_OUT="$out"
want=$(printf '%s' "$KILN_TEST_BUILD_SECRET" | sha256sum | cut -d' ' -f1)

status=0
ansible-playbook -vvv -i ../../inventory -e @../../integration_config.yml "$here/playbook.yml" >"$out/play.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    grep -A80 -e '^fatal:' -e '^failed:' "$out/play.log" | head -240 || true
    tail -3 "$out/play.log"
    echo "build_secret_mounts: the playbook failed ($status)" >&2
    exit 1
fi

# The random part alone also finds the value cut or wrapped; and its base64, as a Secret's data holds it.
needles="$out/needles"
encoded=$(printf '%s' "$KILN_TEST_BUILD_SECRET" | base64 -w0)
printf '%s\n%s\n' "$random" "$encoded" >"$needles"
grep -q 'secret gone after its step' "$out/build.log" || { echo "build_secret_mounts: the build did not run" >&2; exit 1; }

hits=0
blind=0
for name in play.log results.json pods.json events.json build.log; do
    file="$out/$name"
    if [ ! -s "$file" ]; then
        echo "build_secret_mounts: $name was not written" >&2
        blind=$((blind + 1))
        continue
    fi
    n=$(grep -c -F -f "$needles" "$file" || true)
    case $name in
        build.log) seen=$(grep -c 'Pushed' "$file" || true) ;;
        events.json) seen=$(grep -c '"reason": "Started"' "$file" || true) ;;
        *) seen=$(grep -c 'build-token' "$file" || true) ;;
    esac
    [ "$seen" -gt 0 ] || { echo "build_secret_mounts: $name does not show what it should: the scan is blind" >&2; blind=$((blind + 1)); }
    echo "build_secret_mounts: $n secret value(s) in $name ($(wc -l <"$file") lines; $seen control line(s) seen)"
    if [ "$n" -gt 0 ]; then  # where, with the value itself blanked out
        grep -n -B8 -A2 -F -f "$needles" "$file" | sed -e "s|$random|<the value>|g" -e "s|$encoded|<the value, base64>|g" | cut -c1-300 | head -60
    fi
    hits=$((hits + n))
done

# Every blob the registry holds for the image and its cache, decompressed: the value in none, the sha256 in a
# layer of the image, as the file token.sha256.
python3 - "$out" "$want" "$needles" <<'PY' || hits=$((hits + 1))
import gzip
import io
import json
import os
import sys
import tarfile

out, want, needles_file = sys.argv[1:4]
with open(needles_file) as handle:
    needles = [line.strip().encode() for line in handle if line.strip()]
with open(os.path.join(out, 'image-layers.json')) as handle:
    image_layers = {digest.split(':', 1)[1] for digest in json.load(handle)}
blobs = sorted(os.listdir(os.path.join(out, 'blobs')))
found = []
hits = 0
control = 0
for name in blobs:
    with open(os.path.join(out, 'blobs', name), 'rb') as handle:
        data = handle.read()
    if data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    hits += sum(data.count(needle) for needle in needles)
    control += data.count(want.encode())
    if name.endswith('.layer'):
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar.getmembers():
                if member.name.lstrip('./') == 'token.sha256':
                    digest = name.rsplit('-', 1)[1][:-len('.layer')]
                    found.append((digest in image_layers, tar.extractfile(member).read().decode().strip()))
print('build_secret_mounts: {0} secret value(s) in {1} blobs of the image and its cache, decompressed; the sha256 '
      'of the value {2} times; token.sha256 in {3} layer(s)'.format(hits, len(blobs), control, len(found)))
problems = []
if len([name for name in blobs if name.endswith('.config')]) < 2 or not image_layers:
    problems.append('the image and its cache were not all downloaded')
if control == 0:
    problems.append('the sha256 of the value is in no layer: the scan is blind')
if (True, want) not in found:
    problems.append('no layer of the image holds token.sha256 with the sha256 of the value: {0}'.format(found))
for problem in problems:
    print('build_secret_mounts: ' + problem, file=sys.stderr)
sys.exit(1 if hits or problems else 0)
PY
[ "$blind" -eq 0 ] && [ "$hits" -eq 0 ]
