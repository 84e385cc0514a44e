# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Docker's .dockerignore rules (moby/patternmatcher), case by case."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.context import dockerignore


def out(text, path):
    return dockerignore.excluded(dockerignore.parse(text), path)


def test_comments_blank_lines_and_white_space():
    patterns = dockerignore.parse('\ufeff# a comment\n\n   \n  *.log  \n# !a.log\n!   keep.log\n')
    assert [(p.text, p.exclusion) for p in patterns] == [('*.log', False), ('keep.log', True)]


def test_a_comment_must_start_the_line():
    # Docker only drops lines starting with '#'; ' #x' is the pattern '#x'.
    assert [p.text for p in dockerignore.parse(' #x\n')] == ['#x']


@pytest.mark.parametrize('pattern, cleaned', [
    ('/build', 'build'), ('./build/', 'build'), ('a//b/../c', 'a/c'), ('/', '/'), ('.', '.'),
])
def test_patterns_are_cleaned_like_paths(pattern, cleaned):
    assert dockerignore.parse(pattern)[0].text == cleaned


@pytest.mark.parametrize('pattern, path, expected', [
    # * and ? stay within one path element
    ('*.log', 'a.log', True),
    ('*.log', 'dir/a.log', False),
    ('*/*.log', 'dir/a.log', True),
    ('a?c', 'abc', True),
    ('a?c', 'a/c', False),
    ('a?c', 'abbc', False),
    # ** crosses directories, also none
    ('**/*.log', 'a.log', True),
    ('**/*.log', 'x/y/a.log', True),
    ('**/*.log', 'x/y/a.txt', False),
    ('docs/**', 'docs/a/b.md', True),
    ('docs/**', 'docs', False),  # the folder itself stays; all it holds goes
    ('a/**/b', 'a/b', True),
    ('a/**/b', 'a/x/y/b', True),
    ('a/**/b', 'ab', False),
    ('**', 'anything/at/all', True),
    # a matched directory takes what is below it
    ('node_modules', 'node_modules/x/y.js', True),
    ('build', 'src/build', False),
    ('*/build', 'src/build/out.o', True),
    # character classes and escapes
    ('[ab].txt', 'a.txt', True),
    ('[ab].txt', 'c.txt', False),
    ('[^ab].txt', 'c.txt', True),
    ('[a-c]?', 'bz', True),
    ('\\*.txt', '*.txt', True),
    ('\\*.txt', 'a.txt', False),
    # regular-expression characters are literal
    ('a.b', 'axb', False),
    ('a+b', 'a+b', True),
    ('(x)', '(x)', True),
    # a leading slash is the context's root
    ('/secret', 'secret', True),
    ('/secret', 'sub/secret', False),
])
def test_matching(pattern, path, expected):
    assert out(pattern, path) is expected


def test_the_last_matching_line_decides():
    text = '*.md\n!README.md\n'
    assert out(text, 'CHANGES.md')
    assert not out(text, 'README.md')
    assert out(text + 'README.md\n', 'README.md')


def test_an_exception_takes_back_a_file_in_an_excluded_directory():
    text = 'docs\n!docs/keep.md\n'
    assert out(text, 'docs/other.md')
    assert not out(text, 'docs/keep.md')
    assert dockerignore.has_exceptions(dockerignore.parse(text))
    assert not dockerignore.has_exceptions(dockerignore.parse('docs\n'))


def test_an_exception_on_a_directory_takes_back_what_it_holds():
    text = '*\n!src\n'
    assert not out(text, 'src/main.c')
    assert out(text, 'Makefile')


def test_nothing_is_excluded_without_patterns():
    assert not out('', 'a/b/c')
    assert not out('# only a comment\n', 'a')


def test_a_lone_exclamation_mark_is_refused_as_docker_refuses_it():
    # It was dropped silently; Docker fails the build (moby integration-cli TestBuildDockerignoringBadExclusion).
    for text in ('!\n', 'a\n!  \n', '!/\n', ' ! /\n'):
        with pytest.raises(dockerignore.PatternError) as caught:
            dockerignore.parse(text)
        assert caught.value.reason == 'illegal exclusion pattern: "!"'
    assert str(caught.value) == 'line 1: \'!/\': illegal exclusion pattern: "!"'


@pytest.mark.parametrize('pattern, path, expected', [
    # '**' first and no other wildcard: a suffix of the whole path (patternmatcher's suffixMatch)
    ('**.log', 'a.log', True),
    ('**.log', 'x/y/debug.log', True),
    ('**.log', 'x/y/debug.txt', False),
    ('**/x', 'x', True),
    ('**/x', 'ax', False),
    # a trailing '**' with no wildcard before it: a prefix (prefixMatch)
    ('ab**', 'abc/d', True),
    ('ab**', 'a', False),
    # white space inside the path is trimmed again after cleaning: '/ foo' and 'foo /' are 'foo'
    ('/ foo', 'foo', True),
    ('foo /', 'foo', True),
    ('foo /', 'foo/bar', True),
    # an escaped ']' in a class is valid (it crashed with re.error before)
    ('[\\]a]', ']', True),
    ('[\\]a]', 'a', True),
    ('[\\]a]', 'b', False),
    # patternmatcher escapes only '.', '+', '(', ')' and '$' for Go's regexp: its bitmap of the others
    # ('|', '{', '}') loses them, so in a pattern with a wildcard a count and an alternative work as in a
    # regular expression, the alternative splitting the anchors: '^x|y[^/]*$' (answers checked on the oracle)
    ('a{2}*', 'aa', True),
    ('a{2}*', 'a', False),
    ('x|y*', 'x/q', True),
    ('x|y*', 'zy', True),
    ('x|y*', 'z', False),
    # ... and without a wildcard the pattern is the exact path
    ('a|b', 'a|b', True),
    ('a|b', 'a', False),
    # Go's regexp escapes after a backslash: \d is a digit, \. a dot
    ('v\\d', 'v1', True),
    ('v\\d', 'vd', False),
    ('[[:digit:]]x', '7x', True),
])
def test_patternmatcher_rules_python_differs_on(pattern, path, expected):
    assert out(pattern, path) is expected


@pytest.mark.parametrize('pattern', ['[', '[-]', 'a\\', '[a-b-c]', '[]a]', 'x/[^', '!a['])
def test_malformed_patterns_are_refused_when_read(pattern):
    with pytest.raises(dockerignore.PatternError) as caught:
        dockerignore.parse('ok\n' + pattern + '\n')
    assert (caught.value.line, caught.value.text, caught.value.reason) == (2, pattern, 'syntax error in pattern')


@pytest.mark.parametrize('pattern, path', [('a*[', 'ab'), ('x*[z-a]', 'xy'), ('*\\i', 'a')])
def test_a_pattern_go_cannot_compile_fails_when_first_used(pattern, path):
    # filepath.Match stops at the first chunk that cannot match ('.' against 'a'), so New accepts these;
    # Go's regexp refuses them at the first path they are tried on, and so does Docker's build.
    patterns = dockerignore.parse(pattern)
    with pytest.raises(dockerignore.PatternError) as caught:
        dockerignore.excluded(patterns, path)
    assert caught.value.reason.startswith('syntax error in pattern (')
    # an exception is only tried on a path already excluded
    assert not dockerignore.excluded(dockerignore.parse('!' + pattern), path)


def test_a_unicode_class_is_refused_rather_than_guessed():
    with pytest.raises(dockerignore.PatternError) as caught:
        dockerignore.parse('x\\pL')
    assert 'kiln cannot evaluate this pattern as Docker does' in caught.value.reason


def test_lines_end_at_newlines_only():
    # ignorefile.ReadAll reads with bufio.ScanLines: '\n' ends a line and one '\r' before it goes;
    # a lone '\r', a form feed, U+2028 or U+0085 do not split (Python's splitlines() would).
    text = 'a\r\nb\rc\fd\u2028e\x85f\n\ng\r\r\n'
    assert [pattern for _line, pattern in dockerignore.read_lines(text)] == ['a', 'b\rc\fd\u2028e\x85f', 'g']
    assert [line for line, _pattern in dockerignore.read_lines(text)] == [1, 2, 4]


def test_trimming_is_go_white_space():
    # strings.TrimSpace: U+00A0 and U+3000 are space, U+001C..U+001F are not (str.strip() takes both).
    assert [p.text for p in dockerignore.parse('\xa0a\u3000\n\x1fb\n')] == ['a', '\x1fb']


def test_a_byte_order_mark_is_dropped_once_and_only_on_the_first_line():
    assert [p for _n, p in dockerignore.read_lines('\ufeff\ufeffa\n\ufeffb\n')] == ['\ufeffa', '\ufeffb']


def test_a_line_longer_than_bufio_allows_is_refused():
    with pytest.raises(dockerignore.PatternError) as caught:
        dockerignore.read_lines('a\n' + 'x' * dockerignore.MAX_LINE + '\n')
    assert caught.value.line == 2 and caught.value.reason == 'bufio.Scanner: token too long'
