#!/usr/bin/env python3
"""kiln lab: `up`, `down`, `status`, `env`, `build` for the single-node cluster of tests/lab; `images supply|ee`
builds and imports what only some tiers use (cosign and syft, the execution environment); `podman` loads its
executor image into podman (kiln.kaniko.container_build); `kwok up N|down|status` adds fake nodes of other
architectures (kilnlab/kwok.py), for placement tests and the scale bench."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kilnlab import build, cluster, kwok, podman  # noqa: E402


def main(argv):
    commands = {"up": cluster.up, "down": cluster.down, "status": cluster.status, "env": cluster.env,
                "vars": cluster.integration_vars,
                "build": build.build_all,
                "go": build.build_go,
                "toolchain": build.go_binary,
                "deps": build.ensure_packages,
                "podman": podman.load}
    if len(argv) == 3 and argv[1] == "stop" and argv[2] in cluster.COMPONENTS:
        # For fault tests: stop one component by its pid; `lab.py up` starts it again.
        return 0 if cluster.procs.stop(argv[2]) else 1
    if len(argv) >= 3 and argv[1] == "images" and all(name in build.EXTRAS for name in argv[2:]):
        # What some tiers need beyond the core: cosign and syft ("supply"), the execution environment ("ee").
        cluster.images(argv[2:])
        return 0
    if len(argv) == 3 and argv[1] == "go" and argv[2] in ("core", "supply", "kwok"):
        build.build_go(argv[2])
        return 0
    if len(argv) >= 3 and argv[1] == "kwok":
        return kwok.main(argv[2:])
    if len(argv) != 2 or argv[1] not in commands:
        print("usage: lab.py {%s} | lab.py go {core,supply,kwok} | lab.py images {%s} ... | lab.py stop {%s} | "
              "lab.py kwok {up N [--arch A,B],down,status}"
              % (",".join(commands), ",".join(build.EXTRAS), ",".join(cluster.COMPONENTS)), file=sys.stderr)
        return 2
    result = commands[argv[1]]()
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
