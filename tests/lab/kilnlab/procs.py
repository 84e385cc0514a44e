"""Processes the lab starts: recorded by pid and start time, stopped by pid, never by name."""

import os
import signal
import subprocess
import time

from .config import LOGS, PIDS


def _start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def pid_of(name):
    """The pid of the lab's process `name` if it still runs (same pid and same start time)."""
    try:
        pid, started = (PIDS / (name + ".pid")).read_text().split()
        pid = int(pid)
    except (OSError, ValueError):
        return None
    return pid if _start_time(pid) == started else None


def record(name, pid):
    PIDS.mkdir(parents=True, exist_ok=True)
    (PIDS / (name + ".pid")).write_text("%d %s\n" % (pid, _start_time(pid)))


def start(name, argv, env=None, cwd=None):
    """Start `name` unless it already runs. Returns True when it was started now."""
    if pid_of(name):
        return False
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / (name + ".log"), "ab") as log:
        started = time.strftime("%Y-%m-%dT%H:%M:%S")
        log.write(("\n==== %s starting: %s\n" % (started, " ".join(map(str, argv)))).encode())
        log.flush()
        proc = subprocess.Popen([str(a) for a in argv], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env, cwd=cwd)
    record(name, proc.pid)
    return True


def alive(pid):
    return _start_time(pid) is not None and not _zombie(pid)


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def stop_pid(pid, timeout=15.0, sig=signal.SIGTERM):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def stop(name, timeout=15.0):
    pid = pid_of(name)
    if pid:
        stop_pid(pid, timeout)
    try:
        (PIDS / (name + ".pid")).unlink()
    except FileNotFoundError:
        pass
    return pid is not None


def log_tail(name, lines=30):
    try:
        return "".join((LOGS / (name + ".log")).read_text(errors="replace").splitlines(True)[-lines:])
    except OSError:
        return ""


def wait_for(what, check, timeout, component=None, interval=0.2):
    """Wait until ``check()``; say so at once when the lab's process ``component`` exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if component and not pid_of(component):
            raise SystemExit("lab: %s exited while waiting for %s; last lines of %s:\n%s"
                             % (component, what, LOGS / (component + ".log"), log_tail(component)))
        time.sleep(interval)
    tail = log_tail(component) if component else ""
    raise SystemExit("lab: timed out after %ds waiting for %s\n%s" % (timeout, what, tail))
