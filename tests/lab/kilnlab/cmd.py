"""Running commands and saying what the lab does, for every part of the lab."""

import subprocess


def log(msg):
    print("lab: " + msg, flush=True)


def run(*argv, **kwargs):
    kwargs.setdefault("check", True)
    return subprocess.run([str(a) for a in argv], **kwargs)
