# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What an engine offers the one build path, and what a module's backend gives the one edge.

Two engines run builds: engines/kubernetes (a build pod per build, through the API server) and
engines/podman (a Kaniko container of podman on the module's host). The run path (run/) reaches them
through the methods of Engine alone and catches only KilnError from them: an engine turns its own
failures (an API server's refusal, podman's exit status) into KilnErrors that say what failed, and a file
it could not send or bring out into TransferError (errors.py). A module's Backend gives the edge (edge.run) the
build specs, the credentials (Credentials), the engine and the shape of the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Collection,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Protocol,
    Sequence,
    Tuple,
)

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import KilnError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.pod.states import Outcome
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.spec.model import BuildSpec, RegistryCA

if TYPE_CHECKING:
    from ansible.module_utils.basic import AnsibleModule

Warn = Callable[[str], None]
Pod = Dict[str, Any]

# The events of an engine's watch (Engine.watch), as (namespace, kind, object): 'ADDED', 'MODIFIED' and
# 'DELETED' a pod as the API server's watch gives it, and these (the same words as _k8s/watch.py's PodWatch):
SYNC = 'SYNC'          # a pod as a list returned it
RELIST = 'RELIST'      # a namespace was listed again: the object is the set of pod names listed
FAILURE = 'FAILURE'    # the watch of a namespace failed for good: the object is the exception (see Engine.lost)
# Longest single wait of a watch; the Scheduler then looks at its pods with a fresh clock.
MAX_WATCH_SECONDS = 30
# One event: (namespace, kind, object); the podman engine's have no namespace (None).
Event = Tuple[Optional[str], str, Any]


def pod_name(pod: Optional[Pod]) -> Optional[str]:
    return ((pod or {}).get('metadata') or {}).get('name')


def watched(count: int) -> str:
    """What the watch of a run of ``count`` builds follows, as messages name it."""
    return 'the build pod' if count == 1 else 'the build pods'


def lost_contact(exc: BaseException, count: int) -> str:
    """The message of a run whose watch failed with ``exc``, an error its engine has no words of its own for."""
    return 'Lost contact with {0}: {1}: {2}'.format(watched(count), type(exc).__name__, exc)


@dataclass
class Workload:
    """What the engine made for one build: the pod (or the container's pod view) as created, and the
    registry Secret (or None)."""

    namespace: str
    pod: Optional[Pod] = None
    auth_secret: Optional[str] = None

    @property
    def pod_name(self) -> Optional[str]:
        return (self.pod or {}).get('metadata', {}).get('name')


@dataclass(frozen=True)
class Checked:
    """What the credentials of one build said before anything was made: the key of registry_secret the
    kaniko container mounts, and cosign.pub of sign.key_secret (None when there is none to read)."""

    registry_key: str
    public_key: Optional[str] = None


class Credentials(Protocol):
    """The values build options name (git credentials, registry auth, CA certificates, signing keys), read once
    per run. Values reach only temporary 0600 files and the engine's own objects, never a result or a log."""

    def check(self, spec: BuildSpec) -> Checked:
        """Refuse, naming the option, credentials this build cannot use; before anything is made."""

    def data(self, namespace: str, name: str) -> Optional[Dict[str, str]]:
        """The keys and values that option values named ``name`` hold, or None when they cannot be read."""

    def registry_ca(self, namespace: str, ca: RegistryCA, option: str = 'registry_ca') -> Optional[str]:
        """The PEM text of one entry of registry_ca."""


class LogWriter(Protocol):
    """The log file that builds share (control/log_file.py's SectionWriter): lines under the header of their source."""

    def write(self, section: str, line: str) -> None:
        """Write ``line`` under the header of ``section``."""


class LogFollower(Protocol):
    """The logs of one build, followed while it runs."""

    def finish(self) -> List[str]:
        """Read to the end; return the last lines (raises KilnError when the logs cannot be read)."""

    def stop(self, grace: float = 0) -> None:
        """Stop following, after at most ``grace`` seconds."""

    def lines(self) -> List[str]:
        """The last lines read so far, without reading more (the logs of a pod whose node is lost cannot be)."""


class EventSource(Protocol):
    """The events of a run (Engine.watch), for the Scheduler."""

    def start(self) -> object:
        """Begin to watch."""

    def stop(self) -> None:
        """Stop watching."""

    def next(self, seconds: float) -> Optional[Event]:
        """The next event, or None when none came within ``seconds``."""


class Engine(Protocol):
    """Where builds run. The one place that makes a build's workload and the one place that deletes it."""

    def check_namespace(self, namespace: str) -> None:
        """Refuse a namespace the engine cannot build in (raises KilnError naming the option)."""

    def create(self, spec: BuildSpec, workload: Workload, registry_key: str, run_id: str) -> Workload:
        """Make the build's workload (its registry Secret, its pod or container) into ``workload``."""

    def preview(self, spec: BuildSpec, registry_key: str, run_id: str) -> Dict[str, Any]:
        """What check mode shows: what would be made for ``spec``."""

    def explain(self, outcome: Outcome) -> Outcome:
        """``outcome`` of a failed build with the hint worded for this engine's options."""

    def watch(self, namespaces: Iterable[str], run_id: str) -> EventSource:
        """The event source of a run, for the Scheduler: start(), stop(), next(seconds) -> an event
        (SYNC, RELIST, FAILURE above, or a watch's ADDED, MODIFIED, DELETED) or None."""

    def exists(self, namespace: str, name: str) -> bool:
        """Whether the build's pod (container) still exists."""

    def events(self, namespace: str, name: str) -> List[Dict[str, Any]]:
        """The events of a build (raises KilnError when they cannot be read)."""

    def nodes(self) -> List[Dict[str, Any]]:
        """The nodes builds may run on (raises KilnError when they cannot be listed)."""

    def lost_node(self, name: str) -> Optional[Tuple[str, str]]:
        """(cause, what the node says) when node ``name`` is lost or gone (pod/disruption.py's NODE_LOST,
        NODE_DELETED), else None: it reports, or the engine cannot tell (it may not read nodes)."""

    def follow_logs(self, namespace: str, name: str, containers: Sequence[str], writer: Optional[LogWriter],
                    label: str, keep: int) -> LogFollower:
        """Follow the logs of ``containers`` into ``writer``, keeping the last ``keep`` lines."""

    def send_file(self, namespace: str, name: str, container: str, command: List[str], path: str,
                  size: int) -> None:
        """Send the ``size`` bytes of ``path`` to ``command`` in ``container`` (raises TransferError)."""

    def run(self, namespace: str, name: str, container: str, command: List[str]) -> str:
        """Run ``command`` in ``container``; its output (raises TransferError)."""

    def fetch_tarball(self, namespace: str, name: str, spec: BuildSpec) -> Dict[str, Any]:
        """Bring the image tarball to tarball.dest (raises TransferError)."""

    def keep_tarball(self, namespace: str, name: str, spec: BuildSpec) -> Dict[str, Any]:
        """Check the image tarball on tarball.pvc and keep it (raises TransferError)."""

    def delete(self, kind: str, namespace: str, name: str, running: bool, warn: Warn,
               deadline: Optional[float] = None) -> None:
        """Delete one object of a build ('pod' or 'secret'); a failure is warned, not raised."""

    def delete_run(self, namespaces: Iterable[str], run_id: str, keep: Collection[Tuple[str, Optional[str]]],
                   warn: Warn) -> None:
        """Delete what still carries the run's label, except the pods in ``keep`` ((namespace, name))."""

    def lost(self, exc: BaseException, count: int) -> KilnError:
        """The KilnError of a run of ``count`` builds whose event source failed with ``exc``."""

    def close(self, warn: Warn) -> None:
        """Release what the engine holds for the run (private directories, connections)."""


class Backend(Protocol):
    """What a module gives the edge: its specs, its credentials, its engine, its result's shape."""

    def require(self, module: AnsibleModule) -> None:
        """Fail the module at once when a library the engine needs is missing."""

    def specs(self, params: Mapping[str, Any]) -> Tuple[List[BuildSpec], Optional[str], bool]:
        """(build specs, the shared log_path of ``builds``, whether they are items of ``builds``)."""

    def credentials(self, module: AnsibleModule) -> Credentials:
        """The credentials of the run."""

    def engine(self, module: AnsibleModule, specs: List[BuildSpec], credentials: Credentials) -> Engine:
        """The engine of the run, checked as far as it can be before anything is made."""

    def reported(self, result: Dict[str, Any]) -> Dict[str, Any]:
        """The task's result (or a failure's details) as this module reports it."""
