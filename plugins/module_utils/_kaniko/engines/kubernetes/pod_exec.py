# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run a command in a container of a build pod through the API server (pods/exec), with byte streams.

The connection is the kubernetes library's (kubernetes.stream.stream: authentication, TLS and
proxy as for every other request), but its frames are read and written here, one at a time,
on the library's websocket: each frame is a channel byte (0 stdin, 1 stdout, 2 stderr,
3 the command's status, 255 a close in protocol v5) and bytes. So nothing is decoded as
text, memory stays at one frame whatever the size of what goes through, and it works with
every version of the library (its own buffering keeps a copy of all stdout, and its binary
mode only exists in newer versions). The exec protocol v4 cannot tell the command that
stdin is over: commands that read stdin read a known number of bytes (pod/execs.py's receive_command).
"""

from __future__ import annotations

import json
import re
from typing import Callable, Iterator, cast

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.core import CoreApi
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.errors import TransferError

try:
    from kubernetes.client.exceptions import ApiException
    from kubernetes.stream import stream
    from websocket import ABNF, WebSocketException
except ImportError:
    ApiException = stream = ABNF = None  # require_kubernetes() reports the missing library first

    class WebSocketException(Exception):  # type: ignore[no-redef]  # only caught, never raised, without the library
        pass

STDIN = 0
STDOUT = 1
STDERR = 2
ERROR = 3
V5_CLOSE = 255
# Bytes of stdin per frame.
FRAME = 256 * 1024
# Seconds a single read or write on the connection may wait.
IO_TIMEOUT = 120
STDERR_MAX = 64 * 1024

_HANDSHAKE_STATUS_RE = re.compile(r'Handshake status (\d{3})')
_API_MESSAGE_RE = re.compile(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _refusal(reason: object, namespace: str) -> str:
    """A readable message from the library's ApiException reason of a failed exec handshake."""
    text = str(reason or '')
    status = _HANDSHAKE_STATUS_RE.search(text)
    found = _API_MESSAGE_RE.search(text)
    detail = found.group(1).replace('\\"', '"') if found else text.split(' -+-+- ', 1)[0]
    if status and status.group(1) == '403':
        return ('the API server refused the exec ({0}): the module needs the permission to create pods/exec '
                'in namespace {1}'.format(detail, namespace))
    return 'the API server refused the exec: {0}'.format(detail)


def _status(raw: bytes) -> tuple[bool, str | None]:
    """(succeeded, message) from the status channel's JSON (a metav1.Status)."""
    if not raw:
        return False, 'the exec ended without the status of the command (the connection was cut)'
    try:
        status = json.loads(raw.decode('utf-8', 'replace'))
    except ValueError:
        return False, 'the exec ended with an unreadable status: {0!r}'.format(raw[:200])
    if status.get('status') == 'Success':
        return True, None
    code = None
    for cause in ((status.get('details') or {}).get('causes') or []):
        if cause.get('reason') == 'ExitCode':
            code = cause.get('message')
    if code is not None:
        return False, 'the command exited with code {0}'.format(code)
    return False, status.get('message') or 'the command failed'


class PodExec:
    """One command in ``container`` of pod ``pod``; ``core`` is a kubernetes CoreV1Api."""

    def __init__(self, core: CoreApi, namespace: str, pod: str, container: str, command: list[str], stdin: bool = False,
                 timeout: float = IO_TIMEOUT) -> None:
        self.stderr = bytearray()
        self._status = b''
        self._closed = False
        try:
            self._client = stream(core.connect_get_namespaced_pod_exec, pod, namespace, container=container,
                                  command=command, stdin=stdin, stdout=True, stderr=True, tty=False,
                                  _preload_content=False)
        except ApiException as exc:
            raise TransferError(_refusal(exc.reason, namespace)) from exc
        self._socket = self._client.sock
        self._socket.settimeout(timeout)

    def write(self, data: bytes) -> None:
        """Send ``data`` (bytes) to the command's stdin."""
        for start in range(0, len(data), FRAME):
            try:
                self._socket.send(bytes((STDIN,)) + data[start:start + FRAME], opcode=ABNF.OPCODE_BINARY)
            except (WebSocketException, OSError) as exc:
                raise TransferError('the connection broke while sending: {0}'.format(
                    exc or type(exc).__name__)) from exc

    def _frames(self) -> Iterator[tuple[int, bytes]]:
        """(channel, bytes) of each data frame until the connection closes."""
        while not self._closed:
            try:
                opcode, frame = self._socket.recv_data_frame(True)
            except (WebSocketException, OSError) as exc:
                self._closed = True
                if self._status:  # the status came; some servers drop the connection right after it
                    return
                raise TransferError('the connection broke while reading: {0}'.format(
                    exc or type(exc).__name__)) from exc
            if opcode == ABNF.OPCODE_CLOSE:
                self._closed = True
                return
            if opcode not in (ABNF.OPCODE_BINARY, ABNF.OPCODE_TEXT) or not frame.data:
                continue
            data = frame.data if isinstance(frame.data, bytes) else frame.data.encode('utf-8')
            channel, data = data[0], data[1:]
            if channel == V5_CLOSE:
                continue
            if channel == ERROR:
                self._status += data
            elif channel == STDERR:
                self.stderr += data[:max(0, STDERR_MAX - len(self.stderr))]
            yield channel, data

    def wait(self, stdout: Callable[[bytes], None] | None = None) -> None:
        """Read until the command ends; hand each stdout piece to ``stdout``; raise TransferError unless it succeeded."""
        try:
            for channel, data in self._frames():
                if channel == STDOUT and stdout is not None and data:
                    stdout(data)
        finally:
            self.close()
        succeeded, message = _status(self._status)
        if not succeeded:  # then it says why
            error = self.stderr.decode('utf-8', 'replace').strip().splitlines()
            raise TransferError(cast(str, message) + (': ' + error[-1] if error else ''))

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:  # closing a broken connection: nothing left to do
            pass


def run(core: CoreApi, namespace: str, pod: str, container: str, command: list[str],
        timeout: float = IO_TIMEOUT) -> str:
    """Run ``command``; return its stdout as text; raise TransferError unless it succeeded."""
    out = bytearray()
    PodExec(core, namespace, pod, container, command, timeout=timeout).wait(out.extend)
    return out.decode('utf-8', 'replace')


def send_file(core: CoreApi, namespace: str, pod: str, container: str, command: list[str], path: str, size: int,
              timeout: float = IO_TIMEOUT) -> None:
    """Run ``command`` with the ``size`` bytes of file ``path`` on its stdin; raise TransferError unless it succeeded."""
    execution = PodExec(core, namespace, pod, container, command, stdin=True, timeout=timeout)
    try:
        with open(path, 'rb') as handle:
            left = size
            while left:
                data = handle.read(min(FRAME, left))
                if not data:
                    raise TransferError('{0} became shorter while it was sent'.format(path))
                execution.write(data)
                left -= len(data)
    except TransferError as exc:
        # The command may have ended early (tar refused the data): its status says more than the broken pipe.
        try:
            execution.wait()
        except TransferError as ended:
            raise TransferError(ended.message) from ended
        raise exc
    except BaseException:
        execution.close()
        raise
    execution.wait()
