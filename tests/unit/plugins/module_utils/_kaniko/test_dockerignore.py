# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Docker's .dockerignore rules (moby/patternmatcher), case by case."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko import dockerignore


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


def test_a_lone_exclamation_mark_is_ignored():
    assert dockerignore.parse('!\n') == []
