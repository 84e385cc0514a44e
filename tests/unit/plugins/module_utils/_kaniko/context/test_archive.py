# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Packing a local context: what goes in, determinism, the size limit, and bad paths."""

from __future__ import annotations

import os
import tarfile

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.context import archive as context_tar


def tree(root, files, ignore=None):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if ignore is not None:
        (root / '.dockerignore').write_text(ignore)
    return root


def names(packed):
    with tarfile.open(packed.file) as archive:
        return [member.name for member in archive.getmembers()]


@pytest.fixture
def pack(tmp_path):
    made = []

    def run(root, max_size=10 ** 9, always=('Dockerfile',)):
        packed = context_tar.pack(str(root), max_size, always=always, directory=str(tmp_path))
        made.append(packed)
        return packed
    yield run
    for packed in made:
        packed.remove()


def test_dockerignore_is_applied_but_the_dockerfile_and_itself_are_sent(tmp_path, pack):
    root = tree(tmp_path / 'ctx', {'Dockerfile': 'FROM scratch\n', 'app.py': 'x', 'big.bin': b'\0' * 100,
                                   'node_modules/a/b.js': 'x', 'docs/keep.md': 'k', 'docs/drop.md': 'd'},
                ignore='Dockerfile\n.dockerignore\nbig.bin\nnode_modules\ndocs\n!docs/keep.md\n')
    assert names(pack(root)) == ['.dockerignore', 'Dockerfile', 'app.py', 'docs', 'docs/keep.md']


def test_the_same_tree_packs_to_the_same_bytes(tmp_path, pack):
    files = {'Dockerfile': 'FROM scratch\n', 'b/c.txt': 'c', 'a.txt': 'a'}
    first = tree(tmp_path / 'one', files)
    second = tree(tmp_path / 'two', dict(reversed(list(files.items()))))
    os.utime(str(second / 'a.txt'), (1, 1))
    os.chmod(str(first / 'b'), 0o755)
    os.chmod(str(second / 'b'), 0o755)
    one, two = pack(first), pack(second)
    assert (one.sha256, one.size) == (two.sha256, two.size)
    with open(one.file, 'rb') as a, open(two.file, 'rb') as b:
        assert a.read() == b.read()


def test_a_changed_file_or_mode_changes_the_hash(tmp_path, pack):
    root = tree(tmp_path / 'ctx', {'Dockerfile': 'FROM scratch\n', 'run.sh': 'echo 1\n'})
    before = pack(root).sha256
    (root / 'run.sh').write_text('echo 2\n')
    changed = pack(root).sha256
    os.chmod(str(root / 'run.sh'), 0o755)
    executable = pack(root).sha256
    assert len({before, changed, executable}) == 3


def test_entries_are_sorted_owned_by_root_with_a_fixed_time_and_real_modes(tmp_path, pack):
    root = tree(tmp_path / 'ctx', {'Dockerfile': 'FROM scratch\n', 'z/run.sh': '#!/bin/sh\n', 'a.txt': 'a'})
    os.chmod(str(root / 'z' / 'run.sh'), 0o750)
    os.symlink('z/run.sh', str(root / 'link'))
    os.mkfifo(str(root / 'fifo'))
    packed = pack(root)
    with tarfile.open(packed.file) as archive:
        members = archive.getmembers()
    assert [m.name for m in members] == ['Dockerfile', 'a.txt', 'link', 'z', 'z/run.sh']
    assert all((m.uid, m.gid, m.uname, m.gname, m.mtime) == (0, 0, '', '', context_tar.MTIME) for m in members)
    by_name = {m.name: m for m in members}
    assert by_name['z/run.sh'].mode == 0o750
    assert by_name['link'].issym() and by_name['link'].linkname == 'z/run.sh'
    assert by_name['z'].isdir()
    assert packed.size == os.path.getsize(packed.file) and packed.size % 512 == 0
    assert packed.entries == 5


def test_the_tar_ends_right_after_its_end_blocks(tmp_path, pack):
    root = tree(tmp_path / 'ctx', {'Dockerfile': 'FROM scratch\n'})
    # header + one data block + two zero blocks, no padding to a 10 KiB record
    assert pack(root).size == 512 * 4


def test_long_and_non_ascii_names(tmp_path, pack):
    long_name = 'd/' + 'x' * 150 + '.txt'
    root = tree(tmp_path / 'ctx', {'Dockerfile': 'FROM scratch\n', long_name: 'l', 'é.txt': 'e'})
    assert long_name in names(pack(root)) and 'é.txt' in names(pack(root))


def test_over_the_limit_names_the_option_the_size_and_the_fix_and_leaves_no_file(tmp_path):
    root = tree(tmp_path / 'ctx', {'Dockerfile': 'FROM scratch\n', 'a.bin': b'\1' * 300000, 'b.bin': b'\2' * 300000})
    spool = tmp_path / 'spool'
    spool.mkdir()
    with pytest.raises(ValidationError) as caught:
        context_tar.pack(str(root), 400000, always=('Dockerfile',), directory=str(spool))
    error = caught.value
    assert error.option == 'local_context.max_size'
    assert '589 KiB (603136 bytes)' in error.message and '390.6 KiB' in error.message
    assert 'raise local_context.max_size' in error.message and '.dockerignore' in error.message
    assert list(spool.iterdir()) == []


def test_the_limit_counts_what_dockerignore_leaves(tmp_path, pack):
    root = tree(tmp_path / 'ctx', {'Dockerfile': 'FROM scratch\n', 'a.bin': b'\1' * 300000}, ignore='*.bin\n')
    assert pack(root, max_size=10000).size < 10000


@pytest.mark.parametrize('make, words', [
    (lambda p: None, 'does not exist'),
    (lambda p: p.write_text('x'), 'is not a directory'),
])
def test_bad_paths(tmp_path, make, words):
    path = tmp_path / 'ctx'
    make(path)
    with pytest.raises(ValidationError) as caught:
        context_tar.pack(str(path), 1000)
    assert caught.value.option == 'local_context.path' and words in caught.value.message


def test_a_relative_path_is_refused():
    with pytest.raises(ValidationError) as caught:
        context_tar.check_directory('app')
    assert 'absolute' in caught.value.message


@pytest.mark.parametrize('size, text', [(0, '0 bytes'), (1023, '1023 bytes'), (1024, '1 KiB'),
                                        (200 * 1024 ** 2, '200 MiB'), (int(1.5 * 1024 ** 3), '1.5 GiB')])
def test_human_size(size, text):
    assert context_tar.human_size(size) == text


# moby/moby integration-cli/docker_cli_build_test.go, the TestBuildDockerignore* builds: the files of each
# context, its .dockerignore, and what ends up in the context. Those tests look at what `ADD .` copies,
# from which the classic builder drops the Dockerfile and .dockerignore; the CLI sends both whatever the
# patterns say (and so does kiln: Kaniko reads them from the context and applies .dockerignore to COPY
# itself), so they are in every list below. Directories are entries of the tar.
MOBY_DOCKERIGNORE_BUILDS = {
    'TestBuildDockerignore': (
        ['Makefile', '.git/HEAD', 'src/x.go', 'src/_vendor/v.go', 'src/_vendor/v.cc', 'src/v.cc', 'v.cc',
         'dir/foo', '.gitignore', 'README.md'],
        '\n.git\npkg\n.gitignore\nsrc/_vendor\n*.md\n**/*.cc\ndir', 'Dockerfile',
        ['.dockerignore', 'Dockerfile', 'Makefile', 'src', 'src/x.go']),
    'TestBuildDockerignoreCleanPaths': (
        ['foo', 'foo2', 'dir1/foo'], './foo\ndir1//foo\n./dir1/../foo2', 'Dockerfile',
        ['.dockerignore', 'Dockerfile', 'dir1']),
    'TestBuildDockerignoreExceptions': (
        ['Makefile', '.git/HEAD', 'src/x.go', 'src/_vendor/v.go', 'dir/foo', 'dir/foo1', 'dir/dir/f1', 'dir/dir/foo',
         'dir/e', 'dir/e-dir/foo', '.gitignore', 'README.md', 'dir/a.cc'],
        '\n.git\npkg\n.gitignore\nsrc/_vendor\n*.md\ndir\n!dir/e*\n!dir/dir/foo\n**/*.cc\n!**/*.cc', 'Dockerfile',
        ['.dockerignore', 'Dockerfile', 'Makefile', 'dir', 'dir/a.cc', 'dir/dir', 'dir/dir/foo', 'dir/e', 'dir/e-dir',
         'dir/e-dir/foo', 'src', 'src/x.go']),
    'TestBuildDockerignoringDockerfile': ([], 'Dockerfile\n', 'Dockerfile', ['.dockerignore', 'Dockerfile']),
    'TestBuildDockerignoringDockerfile (./)': ([], './Dockerfile\n', 'Dockerfile', ['.dockerignore', 'Dockerfile']),
    'TestBuildDockerignoringRenamedDockerfile': (
        ['MyDockerfile'], 'MyDockerfile\n', 'MyDockerfile', ['.dockerignore', 'Dockerfile', 'MyDockerfile']),
    'TestBuildDockerignoringRenamedDockerfile (./)': (
        ['MyDockerfile'], './MyDockerfile\n', 'MyDockerfile', ['.dockerignore', 'Dockerfile', 'MyDockerfile']),
    'TestBuildDockerignoringDockerignore': ([], '.dockerignore\n', 'Dockerfile', ['.dockerignore', 'Dockerfile']),
    'TestBuildDockerignoringWholeDir': (
        ['Makefile', '.gitignore'], '*\n', 'Dockerfile', ['.dockerignore', 'Dockerfile']),
    'TestBuildDockerignoringOnlyDotfiles': (
        ['Makefile', '.gitignore'], '.*', 'Dockerfile', ['.dockerignore', 'Dockerfile', 'Makefile']),
    'TestBuildDockerignoringWildDirs': (
        ['dir1/file0', 'dir1/dir2/file0', 'file1', 'dir1/file1', 'dir1/dir2/file1', 'dir1/file2', 'dir1/dir2/file2',
         'dir1/dir2/file4', 'dir1/dir2/file5', 'dir1/dir2/file6', 'dir1/dir3/file7', 'dir1/dir3/file8',
         'dir1/dir4/file9', 'dir1/dir5/fileAA', 'dir1/dir5/fileAB', 'dir1/dir5/fileB'],
        '\n**/file0\n**/*file1\n**/dir1/file2\ndir1/**/file4\n**/dir2/file5\n**/dir1/dir2/file6\ndir1/dir3/**\n'
        '**/dir4/**\n**/file?A\n**/file\\?B\n**/dir5/file.\n', 'Dockerfile',
        ['.dockerignore', 'Dockerfile', 'dir1', 'dir1/dir2', 'dir1/dir2/file2', 'dir1/dir3', 'dir1/dir4', 'dir1/dir5',
         'dir1/dir5/fileAB', 'dir1/dir5/fileB']),
}
# TestBuildDockerignoringWildTopDir: each of these leaves nothing (but the two files the CLI always sends).
for _variant in ('**', '**/', '**/**', '*'):
    MOBY_DOCKERIGNORE_BUILDS['TestBuildDockerignoringWildTopDir ' + _variant] = (
        ['file1', 'dir/file1'], _variant, 'Dockerfile', ['.dockerignore', 'Dockerfile'])


@pytest.mark.parametrize('name', sorted(MOBY_DOCKERIGNORE_BUILDS))
def test_moby_dockerignore_builds(tmp_path, pack, name):
    files, ignore, dockerfile, expected = MOBY_DOCKERIGNORE_BUILDS[name]
    contents = dict.fromkeys(files, '')
    contents.setdefault('Dockerfile', 'FROM busybox\n')
    contents[dockerfile] = 'FROM busybox\n'
    root = tree(tmp_path / 'ctx', contents, ignore=ignore)
    assert names(pack(root, always=(dockerfile,))) == expected


@pytest.mark.parametrize('ignore, line, pattern, reason, fix', [
    # moby integration-cli TestBuildDockerignoringBadExclusion: Docker fails with this very reason
    ('!\n', 1, '!', 'illegal exclusion pattern: "!"', "write the path to take back after the '!', or remove the line"),
    ('*.log\n[\n', 2, '[', 'syntax error in pattern',
     "close the [ ] class, escape a literal '[', ']' or '\\' with '\\', or remove the line"),
    ('a*[\n', 1, 'a*[', 'syntax error in pattern (missing closing ]: `[$`)',
     "close the [ ] class, escape a literal '[', ']' or '\\' with '\\', or remove the line"),
])
def test_a_pattern_docker_refuses_is_refused_before_anything_is_written(tmp_path, ignore, line, pattern, reason, fix):
    root = tree(tmp_path / 'ctx', {'Dockerfile': 'FROM scratch\n', 'a.txt': 'a'}, ignore=ignore)
    spool = tmp_path / 'spool'
    spool.mkdir()
    with pytest.raises(ValidationError) as caught:
        context_tar.pack(str(root), 10 ** 6, always=('Dockerfile',), directory=str(spool))
    assert caught.value.option == 'local_context'
    assert caught.value.message == 'local_context: {0}/.dockerignore line {1}: {2!r} is a pattern Docker refuses ' \
                                   '({3}); {4}'.format(root, line, pattern, reason, fix)
    assert list(spool.iterdir()) == []


def test_an_escaped_bracket_packs(tmp_path, pack):
    # '[\]a]' is a valid class holding ']' and 'a' (it used to end packing with a raw re.error)
    root = tree(tmp_path / 'ctx', {'Dockerfile': 'FROM scratch\n', ']': '', 'a': '', 'b': ''}, ignore='[\\]a]\n')
    assert names(pack(root)) == ['.dockerignore', 'Dockerfile', 'b']


def test_undecodable_bytes_in_dockerignore_match_the_same_bytes_in_names(tmp_path, pack):
    root = tree(tmp_path / 'ctx', {'Dockerfile': 'FROM scratch\n', 'keep': ''})
    (root / '.dockerignore').write_bytes(b'x\xff*\n')
    (root / os.fsdecode(b'x\xffy')).write_text('')
    assert names(pack(root)) == ['.dockerignore', 'Dockerfile', 'keep']
