# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pure helpers behind the build action's progress lines."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.options import build
from ansible_collections.kiln.kaniko.plugins.plugin_utils._build_progress import (
    Cadence,
    LogFollower,
    async_limit,
    describe_build,
    format_duration,
    item_names,
    section_source,
)


@pytest.mark.parametrize('seconds, text', [
    (0, '0s'), (7.9, '7s'), (59, '59s'), (60, '1m00s'), (65, '1m05s'), (3599, '59m59s'), (3600, '1h00m'),
    (7380, '2h03m'), (-3, '0s'),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_a_build_is_named_after_its_first_destination():
    args = dict(destinations=['registry:5000/team/rng:1.0', 'registry:5000/team/rng:latest'],
                git=dict(repo='https://example.com/app.git'))
    assert describe_build(args) == ('registry:5000/team/rng:1.0', 'rng:1.0')


def test_without_destinations_a_build_is_named_after_its_source():
    args = dict(git=dict(repo='http://git.example.com/dockercoins.git'), context_sub_path='worker/')
    assert describe_build(args) == ('http://git.example.com/dockercoins.git (worker)', 'worker')
    assert describe_build(dict(git=dict(repo='http://git.example.com/dockercoins.git'))) == (
        'http://git.example.com/dockercoins.git', 'dockercoins')
    assert describe_build({}) == ('build', 'build')


def test_a_list_of_builds_is_named_by_count_and_names():
    args = dict(builds=[dict(destinations=['r/a:1']), dict(destinations=['r/b:2'])])
    assert describe_build(args) == ('2 builds (a:1, b:2)', 'builds')


def test_the_async_limit_leaves_the_module_its_own_timeout_first():
    assert build.default('timeout') == 1800  # the argument spec's, which the action passes
    assert async_limit({}, 1800) == 1800 + 600
    assert async_limit(dict(timeout=60), 1800) == 660
    assert async_limit(dict(timeout='bad'), 1800) == 2400
    assert async_limit(dict(timeout=100, builds=[dict(timeout=50), dict()]), 1800) == 50 + 100 + 600


def test_the_async_limit_gives_each_pod_that_retries_allows_its_timeout():
    assert build.default('retries') == 0
    assert async_limit(dict(timeout=60, retries=2), 1800) == 3 * 60 + 600
    assert async_limit(dict(timeout=60), 1800, default_retries=1) == 2 * 60 + 600
    assert async_limit(dict(timeout=60, retries=-1), 1800) == 60 + 600  # the module refuses it before any pod
    assert async_limit(dict(timeout=100, retries=1, builds=[dict(timeout=50, retries=0), dict()]), 1800) == (
        50 + 2 * 100 + 600)


def test_the_follower_returns_whole_lines_and_tracks_the_offset_and_section():
    follower = LogFollower()
    assert follower.feed(b'==> clone <==\nkiln clone: fetch') == []
    assert follower.section == 'clone'
    assert follower.offset == len(b'==> clone <==\nkiln clone: fetch')
    assert follower.feed(b'ing HEAD\n\n==> kaniko <==\n\x1b[36mINFO\x1b[0m[0000] Pushing\r\n') == [
        ('clone', 'kiln clone: fetching HEAD'), ('kaniko', 'INFO[0000] Pushing')]
    assert follower.section == 'kaniko'
    assert follower.feed(b'') == []
    assert follower.feed(b'no newline at the end') == []
    assert follower.flush() == [('kaniko', 'no newline at the end')]
    assert follower.flush() == []


def test_the_follower_survives_a_multibyte_character_split_between_reads():
    follower = LogFollower()
    data = 'caf\u00e9 ok\n'.encode('utf-8')
    assert follower.feed(data[:4]) == []
    assert follower.feed(data[4:]) == [(None, 'caf\u00e9 ok')]


def test_the_cadence_says_first_after_first_then_every():
    cadence = Cadence(100.0, first=10, every=30)
    assert not cadence.due(105)
    assert cadence.due(110)
    assert not cadence.due(111)
    assert not cadence.due(139)
    assert cadence.due(140)
    # A long pause does not make it repeat itself to catch up.
    assert cadence.due(400)
    assert not cadence.due(401)


def test_lines_of_a_list_of_builds_are_told_apart_by_their_section():
    args = dict(builds=[dict(destinations=['r/rng:1']), dict(git=dict(repo='http://git/app.git')), 'bad'])
    names = item_names(args)
    assert names == ['rng:1', 'app', 'builds[2]']
    assert section_source('builds[1] kaniko', 'builds', names) == 'app'
    assert section_source('builds[7] clone', 'builds', names) == 'builds[7]'
    assert section_source('kaniko', 'rng:1', []) == 'rng:1'
    assert section_source(None, 'rng:1', names) == 'rng:1'
    # The builds of the platforms of one build say which platform a line comes from.
    assert section_source('linux/arm64 kaniko', 'app:1', []) == 'app:1 linux/arm64'
    assert section_source('builds[1] linux/arm64/v8 clone', 'builds', names) == 'app linux/arm64/v8'
    assert item_names(dict(destinations=['r/a:1'])) == []
