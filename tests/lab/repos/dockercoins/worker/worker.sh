#!/bin/sh
# Ask rng for random bytes forever and say what came back.
# (busybox-static wget crashes with -T on Debian bookworm: the timeout applet bounds it instead.)
n=0
while true; do
  if bytes=$(timeout 5 wget -q -O - "$RNG_URL"); then
    n=$((n + 1))
    echo "worker: got ${#bytes} hex chars from rng (total $n)"
  else
    echo "worker: rng not reachable at $RNG_URL"
  fi
  sleep 1
done
