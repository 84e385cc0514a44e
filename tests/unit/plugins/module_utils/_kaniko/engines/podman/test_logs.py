# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ContainerLog, the logs of a build container: each step's pipe read line by line into log_path under the header of
its step (the ``==> source <==`` protocol the build action reads), the last log_lines lines for the result, and the
last lines of each step whatever log_lines says (podman's own words when it could not start the container)."""

from __future__ import annotations

import io

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import log_sections
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control.log_file import writer_for
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman import logs
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.podman.logs import ContainerLog

NAME = 'kiln-build-1a2b3c'


def follow(log, container, data):
    """Follow ``data`` (bytes) as the pipe of step ``container``, to its end."""
    log.follow(container, io.BytesIO(data))
    log.close(container)


def sections(path):
    """The log file as [(source, [lines])], read back as the build action reads it."""
    found = []
    with open(str(path), 'rb') as handle:
        for line in handle.read().decode('utf-8').splitlines():
            source = log_sections.parse_header(line)
            if source is not None:
                found.append((source, []))
            else:
                found[-1][1].append(line)
    return found


def test_each_step_is_written_under_its_own_header_and_the_result_keeps_the_last_lines(tmp_path):
    path = tmp_path / 'build.log'
    with open(str(path), 'wb') as handle:
        log = ContainerLog(NAME).configure(writer_for(handle), 'builds[1] ', 2)
        follow(log, 'clone', b'Cloning into /workspace/src\nHEAD is now at 3f2c1e9\n')
        follow(log, 'kaniko', b'\x1b[36mINFO\x1b[0m[0001] Retrieving image\r\nINFO[0002] Pushed registry:5000/app\n')
        lines = log.finish()
    assert sections(path) == [
        ('builds[1] clone', ['Cloning into /workspace/src', 'HEAD is now at 3f2c1e9']),
        ('builds[1] kaniko', ['\x1b[36mINFO\x1b[0m[0001] Retrieving image', 'INFO[0002] Pushed registry:5000/app']),
    ]
    assert log_sections.parse_item('builds[1] kaniko') == (1, 'kaniko')
    assert lines == ['INFO[0001] Retrieving image', 'INFO[0002] Pushed registry:5000/app']


def test_a_single_build_s_headers_name_the_step_alone(tmp_path):
    path = tmp_path / 'build.log'
    with open(str(path), 'wb') as handle:
        log = ContainerLog(NAME).configure(writer_for(handle), '', 50)
        log.line('receive', 'kiln receive: build context received')
        follow(log, 'kaniko', b'built\n')
    assert sections(path) == [('receive', ['kiln receive: build context received']), ('kaniko', ['built'])]


def test_without_log_lines_the_last_lines_of_each_step_are_kept_for_podman_s_words():
    log = ContainerLog(NAME).configure(None, '', 0)
    follow(log, 'clone', b'cloned\n')
    follow(log, 'kaniko', b''.join(b'line %d\n' % number for number in range(8)) + b'Error: unable to start container')
    assert log.finish() == []
    assert log.last('clone') == ['cloned']
    assert log.last('kaniko') == ['line 4', 'line 5', 'line 6', 'line 7', 'Error: unable to start container']
    assert len(log.last('kaniko')) == logs.LAST_LINES
    assert log.last('receive') == []


def test_lines_read_before_the_log_is_configured_are_kept():
    log = ContainerLog(NAME)
    log.line('receive', 'kiln receive: build context received')
    assert log.configure(None, '', 5) is log
    follow(log, 'kaniko', b'one\ntwo\n')
    assert log.finish() == ['kiln receive: build context received', 'one', 'two']


def test_a_runaway_line_is_cut_and_bytes_that_are_not_utf8_are_replaced():
    log = ContainerLog(NAME).configure(None, '', 10)
    follow(log, 'kaniko', b'x' * (logs.LOG_LINE_MAX + 10) + b'\ncaf\xe9\n')
    lines = log.last('kaniko')
    assert [len(line) for line in lines[:2]] == [logs.LOG_LINE_MAX, 10]
    assert lines[2] == 'caf\ufffd'


class ClosedPipe(object):
    """A pipe closed under its reader, as when the engine removes a build while its step still writes."""

    def readline(self, _size):
        raise ValueError('I/O operation on closed file')


def test_a_pipe_closed_under_the_reader_ends_it_quietly():
    log = ContainerLog(NAME).configure(None, '', 10)
    log.follow('kaniko', ClosedPipe())
    log.close_all()
    assert not log.readers['kaniko'].is_alive()
    assert log.finish() == []
