#!/usr/bin/env python3
"""Run ansible-test integration targets on the lab, several at a time, each one to its end.

    run_targets.py --tree DIR [--tree DIR ...] [--python VERSION] [--nodes] [TARGET ...] [ANSIBLE_TEST_FLAGS ...]

Each --tree is a staged ansible_collections/kiln/kaniko of its own (scripts/integration.sh makes them): one
worker a tree, so that two ansible-test processes never share tests/output. Every target runs, whatever
another did, in its own ansible-test process; the longest first (times of this machine's last run, kept in
$KILN_CACHE/integration-times.json, else scripts/integration-times.json), so that the two workers end
together. A target that needs an extra of the lab (NEEDS: cosign, syft and regctl for build_supply) waits until
`lab.py images NAME` has it, which begins at once, beside the other targets. At the end a table: each
target's result and seconds, then "N passed, M failed".

Targets with the alias `nodes` need a lab of several nodes and fail on a smaller one: without target names they
are left out, and the run says so; --nodes runs them (scripts/nodes.sh, once the lab has three nodes), and so
does naming them.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

# Seconds each target took on the lab, for the order of a first run on a machine (no times of its own yet):
# without them the longest target, registry, would start last and run alone at the end.
BASELINE = Path(__file__).resolve().parent / "integration-times.json"
# Targets that need what `lab.py up` does not build: `lab.py images NAME` builds it and imports it.
NEEDS = {"build_supply": "supply"}
TAIL = 60


def aliases_of(tree):
    """Each target directory of a staged tree with the words of its aliases file (ansible-test's aliases)."""
    found = {}
    for path in sorted((Path(tree) / "tests" / "integration" / "targets").iterdir()):
        aliases = path / "aliases"
        if path.is_dir():
            found[path.name] = set(aliases.read_text().split()) if aliases.is_file() else set()
    return found


def targets_in(tree):
    """The runnable targets of a staged tree: not hidden, disabled or unsupported."""
    return [name for name, words in aliases_of(tree).items() if not words & {"hidden", "disabled", "unsupported"}]


def node_targets(tree):
    """The runnable targets that need a lab of several nodes (alias `nodes`)."""
    aliases = aliases_of(tree)
    return [name for name in targets_in(tree) if "nodes" in aliases[name]]


class Needs:
    """The lab's extras that targets wait for, each built once, beside the targets that need none."""

    def __init__(self, lab, names, log_dir):
        self.ready = {}
        self.failed = {}
        self.lock = threading.Condition()
        for name in sorted(set(names)):
            thread = threading.Thread(target=self._make, args=(lab, name, log_dir), daemon=True)
            thread.start()

    def _make(self, lab, name, log_dir):
        log = Path(log_dir) / ("lab-images-%s.log" % name)
        with open(log, "w") as out:
            proc = subprocess.run([sys.executable, lab, "images", name], stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, check=False)
        with self.lock:
            if proc.returncode:
                self.failed[name] = "`lab.py images %s` failed (%d): see %s" % (name, proc.returncode, log)
            self.ready[name] = True
            self.lock.notify_all()

    def has(self, name):
        return name is None or name in self.ready


class Queue:
    """Targets in the order to run; take() gives the first whose need is there, waiting when none is."""

    def __init__(self, names, needs):
        self.names = list(names)
        self.needs = needs

    def take(self):
        with self.needs.lock:
            while self.names:
                for name in self.names:
                    if self.needs.has(NEEDS.get(name)):
                        self.names.remove(name)
                        return name
                self.needs.lock.wait()
        return None


def run_target(tree, name, extra, log_dir, needs, procs):
    need = NEEDS.get(name)
    log = Path(log_dir) / (name + ".log")
    if need and need in needs.failed:
        log.write_text(needs.failed[need] + "\n")
        return 1, 0.0, log
    started = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(["ansible-test", "integration", "--color", "no", *extra, name], cwd=tree,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        procs.add(proc)
        rc = proc.wait()
        procs.discard(proc)
    return rc, time.monotonic() - started, log


def tail(path, lines=TAIL):
    text = Path(path).read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", required=True, help="a staged collection tree, one per worker")
    parser.add_argument("--lab", default=str(Path(__file__).resolve().parent.parent / "tests" / "lab" / "lab.py"))
    parser.add_argument("--times", default=str(Path(os.environ.get("KILN_CACHE") or Path.home() / ".cache" / "kiln")
                                               / "integration-times.json"))
    parser.add_argument("--python", help="ansible-test's --python")
    parser.add_argument("--nodes", action="store_true", help="run the targets that need several nodes (alias nodes)")
    parser.add_argument("targets", nargs="*")
    args, extra = parser.parse_known_args(argv)
    if args.python:
        extra = ["--python", args.python] + extra
    available = targets_in(args.tree[0])
    unknown = [t for t in args.targets if t not in available]
    if unknown:
        print("integration: no target %s (there are: %s)" % (", ".join(unknown), " ".join(available)), file=sys.stderr)
        return 2
    several = node_targets(args.tree[0])
    left = []  # not run, and said so
    if args.targets:
        wanted = args.targets
    elif args.nodes:
        wanted = several
    else:
        wanted = [t for t in available if t not in several]
        left = several
    left_note = "integration: left out, as they need a lab of several nodes (scripts/nodes.sh runs them): %s" % (
        " ".join(left))
    if left:
        print(left_note, flush=True)
    times = {}
    for known in (BASELINE, Path(args.times)):  # this machine's last run over the baseline
        try:
            times.update(json.loads(known.read_text()))
        except (OSError, ValueError):
            pass
    order = sorted(wanted, key=lambda t: -times.get(t, 0))
    log_dir = Path(args.tree[0]).parent.parent.parent / "integration-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    needs = Needs(args.lab, [NEEDS[t] for t in order if t in NEEDS], log_dir)
    queue = Queue(order, needs)
    results = {}
    procs = set()
    printing = threading.Lock()

    def worker(tree):
        while True:
            name = queue.take()
            if name is None:
                return
            with printing:
                print("integration: %s started" % name, flush=True)
            rc, seconds, log = run_target(tree, name, extra, log_dir, needs, procs)
            results[name] = (rc, seconds)
            with printing:
                if rc:
                    print("---- %s FAILED (rc %d, %.0fs); the end of %s:\n%s" % (name, rc, seconds, log, tail(log)),
                          flush=True)
                else:
                    print("integration: %s passed (%.0fs)" % (name, seconds), flush=True)

    def stop(signum, _frame):
        for proc in list(procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except OSError:
                pass
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(tree,), daemon=True) for tree in args.tree]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(1)
    passed = [t for t, (rc, _s) in results.items() if rc == 0]
    times.update({t: round(s) for t, (rc, s) in results.items() if rc == 0})
    try:
        Path(args.times).write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")
    except OSError:
        pass
    print("\n%-24s %-7s %6s" % ("target", "result", "s"))
    for name in order:
        rc, seconds = results.get(name, (1, 0.0))
        print("%-24s %-7s %6.0f" % (name, "passed" if rc == 0 else "FAILED", seconds))
    print("integration: %d workers, %.0fs in all" % (len(args.tree), time.monotonic() - started))
    print("%d passed, %d failed" % (len(passed), len(order) - len(passed)))
    if left:
        print(left_note)
    return 0 if len(passed) == len(order) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
