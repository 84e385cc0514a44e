#!/usr/bin/env python3
"""The Python that Ansible runs a module with, for the bench: it runs the module and writes what it cost.

    module_usage.py --record FILE [--profile FILE] -- AnsiballZ_build.py [args]

Ansible starts ``<ansible_python_interpreter> AnsiballZ_<module>.py``; bench/scale.py makes that interpreter a
shell script that execs this. Without --profile the module runs as a child (this Python's own interpreter), and
FILE gets a JSON line: the child's CPU seconds (user and system, its own children such as `git ls-remote`
included), its peak resident memory (ru_maxrss of the children, which the module's own process is the largest
of) and its wall time. With --profile it runs in this process under cProfile, every thread with a profiler of
its own (the log followers and watches are threads) that counts the thread's CPU time, not the wall clock (a
thread waiting for a response would count its wait), and the merged statistics go to the profile file.
"""

import argparse
import cProfile
import json
import pstats
import resource
import runpy
import subprocess
import sys
import threading
import time


def measured(command):
    started = time.monotonic()
    code = subprocess.run([sys.executable, *command], check=False).returncode
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return code, {"cpu_user": usage.ru_utime, "cpu_system": usage.ru_stime, "cpu": usage.ru_utime + usage.ru_stime,
                  "max_rss_mb": usage.ru_maxrss / 1024, "wall": time.monotonic() - started}


def profiled(command, path):
    """Run the module here, each thread under a profiler; write the merged statistics to ``path``."""
    profiles = []
    lock = threading.Lock()
    run = threading.Thread.run

    def run_profiled(thread):
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()
        try:
            run(thread)
        finally:
            profile.disable()

    threading.Thread.run = run_profiled
    main = cProfile.Profile(time.thread_time)
    started, cpu = time.monotonic(), time.process_time()
    code = 0
    sys.argv = list(command)
    main.enable()
    try:
        runpy.run_path(command[0], run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        main.disable()
        stats = pstats.Stats(main)
        with lock:
            for profile in profiles:
                try:
                    stats.add(profile)
                except (TypeError, ValueError):  # a thread that never ran anything profiled
                    pass
        stats.dump_stats(path)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return code, {"cpu": time.process_time() - cpu, "max_rss_mb": usage.ru_maxrss / 1024,
                  "wall": time.monotonic() - started, "profiled": True}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True)
    parser.add_argument("--profile")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.profile:
        code, usage = profiled(command, args.profile)
    else:
        code, usage = measured(command)
    usage["module"] = command[0].rsplit("/", 1)[-1]
    with open(args.record, "a") as record:
        record.write(json.dumps(usage) + "\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
