# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The log file's sections: the protocol between the module, which writes the log, and the build action,
which reads it while the build runs. Pure; both sides import it.

A run of lines from one source is preceded by ``==> <source> <==``. A source is a container (``clone``,
``kaniko``), or, in the log that the items of ``builds`` share, ``builds[N] <container>``; the build of one
platform of ``platforms`` puts its platform before the container: ``linux/arm64 kaniko``. The module's own
lines about a build that runs again as a new pod (option retries) come from the source RETRY, with the same
prefixes; the build action shows them whatever the verbosity.
"""

from __future__ import annotations

import re

# Colours and cursor movement: Kaniko colours its log levels when it thinks it writes to a terminal.
ESCAPES = re.compile(r'\x1b\[[0-9;?]*[ -/]*[@-~]')
# The source of the module's lines about a build that runs again; no container has that name.
RETRY = 'kiln-retry'
_HEADER = re.compile(r'^==> (?P<name>[^<>]+?) <==$')
_ITEM_SOURCE = re.compile(r'^builds\[(?P<index>\d+)\] (?:[a-z0-9]+/[a-z0-9_/]+ )?(?P<container>\S+)$')
_PLATFORM_SOURCE = re.compile(r'^(?:builds\[\d+\] )?(?P<platform>[a-z0-9]+/[a-z0-9_/]+) \S+$')


def header(source: str) -> str:
    """The line that starts a run of lines from ``source``."""
    return '==> {0} <=='.format(source)


def item_prefix(index: int) -> str:
    """What goes before the container name in the sources of item ``index`` of builds."""
    return 'builds[{0}] '.format(index)


def platform_prefix(platform: str) -> str:
    """What goes before the container name in the sources of one platform's build."""
    return '{0} '.format(platform)


def parse_platform(source: str | None) -> str | None:
    """The platform a source names, or None."""
    match = _PLATFORM_SOURCE.match(source or '')
    return match.group('platform') if match else None


def parse_header(line: str) -> str | None:
    """The source a header line names, or None when ``line`` is not a header."""
    match = _HEADER.match(line)
    return match.group('name') if match else None


def parse_item(source: str | None) -> tuple[int, str] | None:
    """(index, container) of an item's source, or None for a single build's."""
    match = _ITEM_SOURCE.match(source or '')
    return (int(match.group('index')), match.group('container')) if match else None


def is_retry(source: str | None) -> bool:
    """Whether lines of ``source`` are the module's own about a build that runs again."""
    return (source or '').rsplit(' ', 1)[-1] == RETRY


def clean_text(text: str | None) -> str:
    """Drop terminal colour codes (Kaniko colours its log) and trailing white space."""
    return ESCAPES.sub('', text or '').rstrip()
