# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""LogStreamer against the shared core/v1 fake: lines written as they come, cut streams resumed, the rest read at the end."""

from __future__ import annotations

import io

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.control import log_file
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.engines.kubernetes import logs
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._k8s.fake_core import FakeCore, LogStream as Stream


def LogApi(answers, ended_after=None):
    """The shared fake, answering each read of a container's log with the next of its ``answers`` (a Stream or an
    HTTP status); a container has ended once ``ended_after`` reads of the pod have been made for it (0: at once)."""
    return FakeCore(logs=answers, ended_after=ended_after or {})


def log_calls(api):
    return [made for call, made in api.calls if call == 'log']


def no_wait(_seconds):
    return False


def followed(streamer):
    """``streamer`` once its follower has ended by itself (every container of the fake having ended): the build
    ends after the follow. On a loaded machine the thread may not even have begun when finish() comes, and
    finish() would then take the answers meant for the follow for its own reads."""
    streamer._thread.join(5)
    assert not streamer._thread.is_alive()
    return streamer


def reached(streamer, container):
    """``streamer`` once its follow has read a line of ``container`` (a stream the fake holds open)."""
    import time
    deadline = time.monotonic() + 5
    while streamer.seen[container] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert streamer.seen[container] >= 1
    return streamer


def test_lines_are_written_as_they_come_under_a_header_per_container():
    api = LogApi({'clone': [400, 400, Stream(['kiln clone: fetching', 'done']), Stream(['kiln clone: fetching', 'done'])],
                  'kaniko': [400, Stream(['INFO step 1', 'INFO pushed']), Stream(['INFO step 1', 'INFO pushed'])]})
    out = io.BytesIO()
    streamer = followed(logs.LogStreamer(api, 'builds', 'p', ['clone', 'kaniko'], log_file.writer_for(out), keep=3,
                                         sleep=no_wait).start())
    assert streamer.finish() == ['done', 'INFO step 1', 'INFO pushed']
    assert out.getvalue().decode() == ('==> clone <==\nkiln clone: fetching\ndone\n'
                                       '==> kaniko <==\nINFO step 1\nINFO pushed\n')
    # Followed, then read once more at the end, past what was seen.
    assert log_calls(api) == [('clone', True)] * 3 + [('kaniko', True)] * 2 + [('clone', False), ('kaniko', False)]


def test_a_cut_stream_is_followed_again_past_the_lines_already_written():
    api = LogApi({'clone': [Stream(['one']), Stream(['one'])],
                  'kaniko': [Stream(['a', 'b'], end='cut'), Stream(['a', 'b', 'c']), Stream(['a', 'b', 'c'])]},
                 ended_after={'kaniko': 0})
    out = io.BytesIO()
    streamer = followed(logs.LogStreamer(api, 'builds', 'p', ['clone', 'kaniko'], log_file.writer_for(out),
                                         sleep=no_wait).start())
    assert streamer.finish() == ['one', 'a', 'b', 'c']
    assert out.getvalue().decode().count('\nb\n') == 1


def test_a_stream_still_open_at_the_end_is_cut_and_the_rest_read_once():
    api = LogApi({'clone': [Stream(['one']), Stream(['one'])],
                  'kaniko': [Stream(['a'], end='block'), Stream(['a', 'b', 'c'])]})
    streamer = reached(logs.LogStreamer(api, 'builds', 'p', ['clone', 'kaniko'], sleep=no_wait).start(), 'kaniko')
    assert streamer.finish(grace=0.1) == ['one', 'a', 'b', 'c']
    assert log_calls(api)[-1] == ('kaniko', False)


def test_a_404_from_a_kubelet_that_has_not_taken_the_pod_up_yet_is_followed_again():
    """Right after the pod is created, the kubelet may answer a log request with 404 (it does not know the pod yet):
    the pod exists, so the log is followed as soon as the kubelet has it."""
    api = LogApi({'clone': [404, Stream(['cloned']), Stream(['cloned'])],
                  'kaniko': [Stream(['pushed']), Stream(['pushed'])]}, ended_after={'clone': 0, 'kaniko': 0})
    streamer = logs.LogStreamer(api, 'builds', 'p', ['clone', 'kaniko'], sleep=no_wait).start()
    streamer._thread.join(5)
    assert log_calls(api) == [('clone', True), ('clone', True), ('kaniko', True)]  # followed live, before finish()
    assert streamer.finish() == ['cloned', 'pushed']


def test_a_pod_that_is_gone_ends_the_following():
    api = FakeCore(logs={'clone': [404] * 3, 'kaniko': [404] * 3})  # and no such pod either
    streamer = logs.LogStreamer(api, 'builds', 'p', ['clone', 'kaniko'], sleep=no_wait).start()
    streamer._thread.join(5)
    assert log_calls(api) == [('clone', True)]
    assert streamer.finish() == []


def test_a_container_that_never_started_is_skipped():
    api = LogApi({'clone': [Stream(['fatal: repository not found'])] * 2, 'kaniko': [400] * 50})
    streamer = logs.LogStreamer(api, 'builds', 'p', ['clone', 'kaniko']).start()
    assert streamer.finish(grace=0.2) == ['fatal: repository not found']


def test_a_stream_that_ends_before_the_container_does_is_followed_again():
    # The kubelet ends a follow at once for a container that is only starting.
    api = LogApi({'clone': [Stream([]), Stream(['kiln clone: fetching']), Stream(['kiln clone: fetching'])],
                  'kaniko': [Stream(['pushed']), Stream(['pushed'])]}, ended_after={'clone': 1})
    streamer = followed(logs.LogStreamer(api, 'builds', 'p', ['clone', 'kaniko'], sleep=no_wait).start())
    assert streamer.finish() == ['kiln clone: fetching', 'pushed']


def test_builds_sharing_a_file_get_a_header_at_each_change_of_source():
    out = io.BytesIO()
    writer = log_file.writer_for(out)
    for section, line in [('builds[0] kaniko', 'x1'), ('builds[1] kaniko', 'y1'), ('builds[1] kaniko', 'y2'),
                          ('builds[0] kaniko', 'x2')]:
        writer.write(section, line)
    assert out.getvalue().decode() == ('==> builds[0] kaniko <==\nx1\n==> builds[1] kaniko <==\ny1\ny2\n'
                                       '==> builds[0] kaniko <==\nx2\n')
    assert log_file.writer_for(writer) is writer and log_file.writer_for(None) is None


def test_the_end_of_the_build_ends_the_wait_for_a_lagging_status():
    """The kubelet closes a log stream up to a second before the pod's status says the container ended: the
    follower then waits between follows. Once the build is over (finish), it must not wait that out."""
    import time
    api = LogApi({'clone': [Stream(['cloned'])] * 50, 'kaniko': [Stream(['pushed'])] * 50},
                 ended_after={'clone': 1000, 'kaniko': 1000})  # the status never catches up
    streamer = logs.LogStreamer(api, 'builds', 'p', ['clone', 'kaniko']).start()  # the real wait
    started = time.monotonic()
    assert streamer.finish(grace=30) == ['cloned', 'pushed']
    assert time.monotonic() - started < 5  # before: the whole grace, then a cut stream
    assert not streamer._thread.is_alive()


def test_the_end_of_the_build_cuts_a_stream_still_open_at_once():
    """Once the pod has ended its logs are whole on the node; the kubelet closes an open follow only when it next
    looks (up to a second later). finish() does not wait for that."""
    import time
    api = LogApi({'clone': [Stream(['cloned']), Stream(['cloned'])],
                  'kaniko': [Stream(['a'], end='block'), Stream(['a', 'pushed'])]}, ended_after={'clone': 0})
    streamer = reached(logs.LogStreamer(api, 'builds', 'p', ['clone', 'kaniko'], sleep=no_wait).start(), 'kaniko')
    started = time.monotonic()
    assert streamer.finish() == ['cloned', 'a', 'pushed']
    assert time.monotonic() - started < 0.5
    assert not streamer._thread.is_alive()


def test_a_follow_leaves_a_line_without_its_end_to_the_last_read():
    """A stream that closes in the middle of a line (cut by stop(), or by a proxy) must not pass the half line off as
    whole: the last read gives it."""
    out = io.BytesIO()
    api = LogApi({'clone': [Stream(['cloned']), Stream(['cloned'])],
                  'kaniko': [Stream(['a', 'half'], unterminated=True), Stream(['a', 'half a line']),
                             Stream(['a', 'half a line'])]},
                 ended_after={'clone': 0, 'kaniko': 0})
    streamer = logs.LogStreamer(api, 'builds', 'p', ['clone', 'kaniko'], log_file.writer_for(out), sleep=no_wait).start()
    followed(streamer)  # the follow reads the cut stream and, both containers having ended, stops by itself
    assert log_calls(api) == [('clone', True), ('kaniko', True)]
    assert streamer.finish() == ['cloned', 'a', 'half a line']
    assert out.getvalue().decode() == '==> clone <==\ncloned\n==> kaniko <==\na\nhalf a line\n'
