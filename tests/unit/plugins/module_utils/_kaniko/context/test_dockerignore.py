# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Docker's .dockerignore rules (moby/patternmatcher), case by case, and the test cases of the projects that
define them."""

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


# ---------------------------------------------------------------- the cases of the projects that define the rules
# The .dockerignore rules against the test cases of the projects that define them, as data.
#
# Each table names its source. Where a test calls patternmatcher's package-level Matches (deprecated:
# it looks at one parent directory only), the case runs through MatchesOrParentMatches, which Kaniko and
# BuildKit use; the two agree on every case below. tests/oracle compares with the Go code itself.

def matches(patterns, path):
    """patternmatcher.New(patterns) then MatchesOrParentMatches(path); PatternError where Go errs."""
    return dockerignore.excluded(dockerignore.compile_patterns(list(enumerate(patterns, 1))), path)


def fails(patterns, path):
    try:
        matches(patterns, path)
    except dockerignore.PatternError:
        return True
    return False


# moby/patternmatcher patternmatcher_test.go, TestMatches: (pattern, text, pass), plus the non-Windows case.
PATTERNMATCHER_TEST_MATCHES = [
    ("**", "file", True), ("**", "file/", True), ("**/", "file", True), ("**/", "file/", True),
    ("**", "/", True), ("**/", "/", True), ("**", "dir/file", True), ("**/", "dir/file", True),
    ("**", "dir/file/", True), ("**/", "dir/file/", True), ("**/**", "dir/file", True),
    ("**/**", "dir/file/", True), ("dir/**", "dir/file", True), ("dir/**", "dir/file/", True),
    ("dir/**", "dir/dir2/file", True), ("dir/**", "dir/dir2/file/", True), ("**/dir", "dir", True),
    ("**/dir", "dir/file", True), ("**/dir2/*", "dir/dir2/file", True), ("**/dir2/*", "dir/dir2/file/", True),
    ("**/dir2/**", "dir/dir2/dir3/file", True), ("**/dir2/**", "dir/dir2/dir3/file/", True),
    ("**file", "file", True), ("**file", "dir/file", True), ("**/file", "dir/file", True),
    ("**file", "dir/dir/file", True), ("**/file", "dir/dir/file", True), ("**/file*", "dir/dir/file", True),
    ("**/file*", "dir/dir/file.txt", True), ("**/file*txt", "dir/dir/file.txt", True),
    ("**/file*.txt", "dir/dir/file.txt", True), ("**/file*.txt*", "dir/dir/file.txt", True),
    ("**/**/*.txt", "dir/dir/file.txt", True), ("**/**/*.txt2", "dir/dir/file.txt", False),
    ("**/*.txt", "file.txt", True), ("**/**/*.txt", "file.txt", True), ("a**/*.txt", "a/file.txt", True),
    ("a**/*.txt", "a/dir/file.txt", True), ("a**/*.txt", "a/dir/dir/file.txt", True),
    ("a/*.txt", "a/dir/file.txt", False), ("a/*.txt", "a/file.txt", True), ("a/*.txt**", "a/file.txt", True),
    ("a[b-d]e", "ae", False), ("a[b-d]e", "ace", True), ("a[b-d]e", "aae", False), ("a[^b-d]e", "aze", True),
    (".*", ".foo", True), (".*", "foo", False), ("abc.def", "abcdef", False), ("abc.def", "abc.def", True),
    ("abc.def", "abcZdef", False), ("abc?def", "abcZdef", True), ("abc?def", "abcdef", False),
    ("a\\\\", "a\\", True), ("**/foo/bar", "foo/bar", True), ("**/foo/bar", "dir/foo/bar", True),
    ("**/foo/bar", "dir/dir2/foo/bar", True), ("abc/**", "abc", False), ("abc/**", "abc/def", True),
    ("abc/**", "abc/def/ghi", True), ("**/.foo", ".foo", True), ("**/.foo", "bar.foo", False),
    ("a(b)c/def", "a(b)c/def", True), ("a(b)c/def", "a(b)c/xyz", False), ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
    ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
     "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
    ("a\\*b", "a*b", True),
]

# moby/patternmatcher patternmatcher_test.go, TestMatches multiPatternTests: (patterns, text, pass).
PATTERNMATCHER_TEST_MULTI = [
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"],
     "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
    (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
]

# moby/patternmatcher patternmatcher_test.go, TestWildcardMatches ... TestMatchesWithMalformedPatterns
# (the single-pattern tests before TestMatches), and docker/cli cli/command/image/build/context_test.go,
# which repeats the first nine through its filepathMatches: (patterns, text, matched, error).
PATTERNMATCHER_TEST_SIMPLE = [
    (["*"], "fileutils.go", True, False),                               # TestWildcardMatches
    (["*.go"], "fileutils.go", True, False),                            # TestPatternMatches
    (["!fileutils.go", "*.go"], "fileutils.go", True, False),           # ...MatchesPatternBefore
    (["docs", "!docs/README.md"], "docs/README.md", False, False),      # ...MatchesFolderExclusions
    (["docs/", "!docs/README.md"], "docs/README.md", False, False),     # ...FolderWithSlashExclusions
    (["docs/*", "!docs/README.md"], "docs/README.md", False, False),    # ...FolderWildcardExclusions
    (["*.go", "!fileutils.go"], "fileutils.go", False, False),          # ...MatchesPatternAfter
    (["*.go"], ".", False, False),                                      # ...MatchesWholeDirectory
    ([], "/any/path/there", False, False),                              # TestMatchesWithNoPatterns
    (["!"], "fileutils.go", False, True),                               # TestSingleExclamationError
    (["["], "/any/path/there", False, True),                            # TestMatchesWithMalformedPatterns
]

# moby/patternmatcher patternmatcher_test.go, matchTests ("stolen from go's filepath Match tests"), run
# by TestMatch: (pattern, s, match, error). '[]a]' is an error here although Go's regexp reads it as a class:
# New refuses it through filepath.Match first.
PATTERNMATCHER_MATCH_TESTS = [
    ("abc", "abc", True, False), ("*", "abc", True, False), ("*c", "abc", True, False), ("a*", "a", True, False),
    ("a*", "abc", True, False), ("a*", "ab/c", True, False), ("a*/b", "abc/b", True, False),
    ("a*/b", "a/c/b", False, False), ("a*b*c*d*e*/f", "axbxcxdxe/f", True, False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True, False), ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False, False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False, False), ("a*b?c*x", "abxbbxdbxebxczzx", True, False),
    ("a*b?c*x", "abxbbxdbxebxczzy", False, False), ("ab[c]", "abc", True, False), ("ab[b-d]", "abc", True, False),
    ("ab[e-g]", "abc", False, False), ("ab[^c]", "abc", False, False), ("ab[^b-d]", "abc", False, False),
    ("ab[^e-g]", "abc", True, False), ("a\\*b", "a*b", True, False), ("a\\*b", "ab", False, False),
    ("a?b", "a\u263ab", True, False), ("a[^a]b", "a\u263ab", True, False), ("a???b", "a\u263ab", False, False),
    ("a[^a][^a][^a]b", "a\u263ab", False, False), ("[a-\u03b6]*", "\u03b1", True, False),
    ("*[a-\u03b6]", "A", False, False), ("a?b", "a/b", False, False), ("a*b", "a/b", False, False),
    ("[\\]a]", "]", True, False), ("[\\-]", "-", True, False), ("[x\\-]", "x", True, False),
    ("[x\\-]", "-", True, False), ("[x\\-]", "z", False, False), ("[\\-x]", "x", True, False),
    ("[\\-x]", "-", True, False), ("[\\-x]", "a", False, False), ("[]a]", "]", False, True),
    ("[-]", "-", False, True), ("[x-]", "x", False, True), ("[x-]", "-", False, True), ("[x-]", "z", False, True),
    ("[-x]", "x", False, True), ("[-x]", "-", False, True), ("[-x]", "a", False, True), ("\\", "a", False, True),
    ("[a-b-c]", "a", False, True), ("[", "a", False, True), ("[^", "a", False, True), ("[^bc", "a", False, True),
    ("a[", "a", False, True), ("a[", "ab", False, True), ("*x", "xxx", True, False),
]

# moby/patternmatcher patternmatcher_test.go, compileTests (TestCompile, "/" separator):
# (pattern, match type, regular expression for regexpMatch).
PATTERNMATCHER_COMPILE_TESTS = [
    ("*", "regexp", "^[^/]*$"), ("file*", "regexp", "^file[^/]*$"), ("*file", "regexp", "^[^/]*file$"),
    ("a*/b", "regexp", "^a[^/]*/b$"), ("**", "suffix", None), ("**/**", "regexp", "^(.*/)?.*$"),
    ("dir/**", "prefix", None), ("**/dir", "suffix", None), ("**/dir2/*", "regexp", "^(.*/)?dir2/[^/]*$"),
    ("**/dir2/**", "regexp", "^(.*/)?dir2/.*$"), ("**file", "suffix", None),
    ("**/file*txt", "regexp", "^(.*/)?file[^/]*txt$"), ("**/**/*.txt", "regexp", "^(.*/)?(.*/)?[^/]*\\.txt$"),
    ("a[b-d]e", "regexp", "^a[b-d]e$"), (".*", "regexp", "^\\.[^/]*$"), ("abc.def", "exact", None),
    ("abc?def", "regexp", "^abc[^/]def$"), ("**/foo/bar", "suffix", None), ("a(b)c/def", "exact", None),
    ("a.|)$(}+{bc", "exact", None), ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "exact", None),
]


@pytest.mark.parametrize("pattern, text, expected", PATTERNMATCHER_TEST_MATCHES)
def test_patternmatcher_test_matches(pattern, text, expected):
    assert matches([pattern], text) is expected


@pytest.mark.parametrize("patterns, text, expected", PATTERNMATCHER_TEST_MULTI)
def test_patternmatcher_test_matches_multi(patterns, text, expected):
    assert matches(patterns, text) is expected


@pytest.mark.parametrize("patterns, text, expected, error", PATTERNMATCHER_TEST_SIMPLE)
def test_patternmatcher_simple_tests(patterns, text, expected, error):
    assert fails(patterns, text) is error
    if not error:
        assert matches(patterns, text) is expected


@pytest.mark.parametrize("pattern, text, expected, error", PATTERNMATCHER_MATCH_TESTS)
def test_patternmatcher_match_tests(pattern, text, expected, error):
    assert fails([pattern], text) is error
    if not error:
        assert matches([pattern], text) is expected


@pytest.mark.parametrize("pattern, kind, expression", PATTERNMATCHER_COMPILE_TESTS)
def test_patternmatcher_compile_tests(pattern, kind, expression):
    assert dockerignore._translate(pattern)[0] == kind
    if kind == "regexp":
        assert dockerignore._translate(pattern)[1] == expression


def test_patternmatcher_clean_patterns():
    # moby/patternmatcher patternmatcher_test.go: TestCleanPatterns, ...StripEmptyPatterns,
    # ...ExceptionFlag, ...LeadingSpaceTrimmed, ...TrailingSpaceTrimmed, ...ErrorSingleException.
    def compiled(patterns):
        return dockerignore.compile_patterns(list(enumerate(patterns, 1)))
    assert len(compiled(["docs", "config"])) == 2
    assert len(compiled(["docs", "config", ""])) == 2
    for patterns in (["docs", "!docs/README.md"], ["docs", "  !docs/README.md"], ["docs", "!docs/README.md  "]):
        assert dockerignore.has_exceptions(compiled(patterns))
    with pytest.raises(dockerignore.PatternError):
        compiled(["!"])


def test_patternmatcher_malformed_pattern_fails_on_every_use():
    # moby/patternmatcher patternmatcher_test.go:
    # TestMatchesOrParentMatchesMalformedPatternDoesNotPanicOnRepeatedCall. New accepts "[Local-Only]/"
    # (filepath.Match does not order ranges), Go's regexp does not ("l-O" runs backwards).
    patterns = dockerignore.compile_patterns([(1, "[Local-Only]/")])
    for _call in range(2):
        with pytest.raises(dockerignore.PatternError) as caught:
            dockerignore.excluded(patterns, "x")
        assert caught.value.reason.startswith("syntax error in pattern")


def test_ignorefile_read_all():
    # moby/patternmatcher ignorefile/ignorefile_test.go, TestReadAll (ReadAll(nil) is the empty text here).
    assert dockerignore.read_lines("") == []
    content = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! "
    assert [pattern for _line, pattern in dockerignore.read_lines(content)] == [
        "test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path", "!", "!"]
    # ... and New refuses the lone "!" lines, naming the first.
    with pytest.raises(dockerignore.PatternError) as caught:
        dockerignore.parse(content)
    assert (caught.value.line, caught.value.text, caught.value.reason) == (8, "!", 'illegal exclusion pattern: "!"')
