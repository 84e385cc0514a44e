"""Running commands and saying what the lab does, for every part of the lab."""

import subprocess
from pathlib import Path


def log(msg):
    print("lab: " + msg, flush=True)


def run(*argv, **kwargs):
    kwargs.setdefault("check", True)
    return subprocess.run([str(a) for a in argv], **kwargs)


def write_file(path, text, mode=0o644):
    """Write ``text`` to ``path`` (its folders made) unless it holds that already, and give it ``mode``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    path.chmod(mode)
    return path
