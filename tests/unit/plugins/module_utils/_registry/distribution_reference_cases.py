# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The test tables of github.com/distribution/reference v0.6.0, as data: test_reference.py runs them.

Each table is one table of reference_test.go, normalize_test.go or regexp_test.go of that module
(https://github.com/distribution/reference/tree/v0.6.0), named after its Go test, with upstream's values
unchanged: '' where a Go test leaves a field out, errors by their Go names. Long runs of one character
are written as 'f' * 64, and strings.Repeat("a/", 127) as 'a/' * 127.

Left out, because they test Go-only API with no counterpart here (the comments in test_reference.py say
how each ported table maps onto ImageReference):
- reference_test.go TestWithDigest: WithDigest only checks the digest regexp, so it builds references with
  digests go-digest refuses ('sha256:' and 39 hex digits); an ImageReference holds only digests parse accepts.
- normalize_test.go TestMatch and TestMatchError: FamiliarMatch, Go's path.Match glob over references.
"""

from __future__ import annotations


# ---------------------------------------------------------------- reference_test.go

# TestReferenceParse: Parse(input) -> error, or Name() (repository), Domain(), Tag(), Digest().
# (input, err, repository, domain, tag, digest); '' where upstream leaves a field out.
REFERENCE_PARSE = (
    ('test_com', None, 'test_com', '', '', ''),
    ('test.com:tag', None, 'test.com', '', 'tag', ''),
    ('test.com:5000', None, 'test.com', '', '5000', ''),
    ('test.com/repo:tag', None, 'test.com/repo', 'test.com', 'tag', ''),
    ('test:5000/repo', None, 'test:5000/repo', 'test:5000', '', ''),
    ('test:5000/repo:tag', None, 'test:5000/repo', 'test:5000', 'tag', ''),
    ('test:5000/repo@sha256:' + 'f' * 64, None, 'test:5000/repo', 'test:5000', '', 'sha256:' + 'f' * 64),
    ('test:5000/repo:tag@sha256:' + 'f' * 64, None, 'test:5000/repo', 'test:5000', 'tag', 'sha256:' + 'f' * 64),
    ('test:5000/repo', None, 'test:5000/repo', 'test:5000', '', ''),
    ('', 'ErrNameEmpty', '', '', '', ''),
    (':justtag', 'ErrReferenceInvalidFormat', '', '', '', ''),
    ('@sha256:' + 'f' * 64, 'ErrReferenceInvalidFormat', '', '', '', ''),
    ('repo@sha256:' + 'f' * 34, 'digest.ErrDigestInvalidLength', '', '', '', ''),
    ('validname@invaliddigest:' + 'f' * 64, 'digest.ErrDigestUnsupported', '', '', '', ''),
    ('Uppercase:tag', 'ErrNameContainsUppercase', '', '', '', ''),
    ('test:5000/Uppercase/lowercase:tag', 'ErrNameContainsUppercase', '', '', '', ''),
    ('lowercase:Uppercase', None, 'lowercase', '', 'Uppercase', ''),
    ('domain/' + 'a' * 256 + ':tag', 'ErrNameTooLong', '', '', '', ''),
    ('a/' * 127 + 'a:tag-puts-this-over-max', None, 'a/' * 127 + 'a', 'a', 'tag-puts-this-over-max', ''),
    ('aa/asdf$$^/aa', 'ErrReferenceInvalidFormat', '', '', '', ''),
    ('sub-dom1.foo.com/bar/baz/quux', None, 'sub-dom1.foo.com/bar/baz/quux', 'sub-dom1.foo.com', '', ''),
    (
        'sub-dom1.foo.com/bar/baz/quux:some-long-tag',
        None,
        'sub-dom1.foo.com/bar/baz/quux',
        'sub-dom1.foo.com',
        'some-long-tag',
        '',
    ),
    (
        'b.gcr.io/test.example.com/my-app:test.example.com',
        None,
        'b.gcr.io/test.example.com/my-app',
        'b.gcr.io',
        'test.example.com',
        '',
    ),
    ('xn--n3h.com/myimage:xn--n3h.com', None, 'xn--n3h.com/myimage', 'xn--n3h.com', 'xn--n3h.com', ''),
    (
        'xn--7o8h.com/myimage:xn--7o8h.com@sha512:' + 'f' * 128,
        None,
        'xn--7o8h.com/myimage',
        'xn--7o8h.com',
        'xn--7o8h.com',
        'sha512:' + 'f' * 128,
    ),
    ('foo_bar.com:8080', None, 'foo_bar.com', '', '8080', ''),
    ('foo/foo_bar.com:8080', None, 'foo/foo_bar.com', 'foo', '8080', ''),
    ('192.168.1.1', None, '192.168.1.1', '', '', ''),
    ('192.168.1.1:tag', None, '192.168.1.1', '', 'tag', ''),
    ('192.168.1.1:5000', None, '192.168.1.1', '', '5000', ''),
    ('192.168.1.1/repo', None, '192.168.1.1/repo', '192.168.1.1', '', ''),
    ('192.168.1.1:5000/repo', None, '192.168.1.1:5000/repo', '192.168.1.1:5000', '', ''),
    ('192.168.1.1:5000/repo:5050', None, '192.168.1.1:5000/repo', '192.168.1.1:5000', '5050', ''),
    ('[2001:db8::1]', 'ErrReferenceInvalidFormat', '', '', '', ''),
    ('[2001:db8::1]:5000', 'ErrReferenceInvalidFormat', '', '', '', ''),
    ('[2001:db8::1]:tag', 'ErrReferenceInvalidFormat', '', '', '', ''),
    ('[2001:db8::1]/repo', None, '[2001:db8::1]/repo', '[2001:db8::1]', '', ''),
    ('[2001:db8:1:2:3:4:5:6]/repo:tag', None, '[2001:db8:1:2:3:4:5:6]/repo', '[2001:db8:1:2:3:4:5:6]', 'tag', ''),
    ('[2001:db8::1]:5000/repo', None, '[2001:db8::1]:5000/repo', '[2001:db8::1]:5000', '', ''),
    ('[2001:db8::1]:5000/repo:tag', None, '[2001:db8::1]:5000/repo', '[2001:db8::1]:5000', 'tag', ''),
    (
        '[2001:db8::1]:5000/repo@sha256:' + 'f' * 64,
        None,
        '[2001:db8::1]:5000/repo',
        '[2001:db8::1]:5000',
        '',
        'sha256:' + 'f' * 64,
    ),
    (
        '[2001:db8::1]:5000/repo:tag@sha256:' + 'f' * 64,
        None,
        '[2001:db8::1]:5000/repo',
        '[2001:db8::1]:5000',
        'tag',
        'sha256:' + 'f' * 64,
    ),
    ('[2001:db8::]:5000/repo', None, '[2001:db8::]:5000/repo', '[2001:db8::]:5000', '', ''),
    ('[::1]:5000/repo', None, '[::1]:5000/repo', '[::1]:5000', '', ''),
    ('[fe80::1%eth0]:5000/repo', 'ErrReferenceInvalidFormat', '', '', '', ''),
    ('[fe80::1%@invalidzone]:5000/repo', 'ErrReferenceInvalidFormat', '', '', '', ''),
    ('example.com/' + 'a' * 255 + ':tag', None, 'example.com/' + 'a' * 255, 'example.com', 'tag', ''),
)


# TestWithNameFailure: WithName(input) fails. (input, err)
WITH_NAME_FAILURE = (
    ('', 'ErrReferenceInvalidFormat'),
    (':justtag', 'ErrReferenceInvalidFormat'),
    ('@sha256:' + 'f' * 64, 'ErrReferenceInvalidFormat'),
    ('validname@invaliddigest:' + 'f' * 64, 'ErrReferenceInvalidFormat'),
    ('example.com/repo:tag', 'ErrReferenceInvalidFormat'),
    ('example.com/' + 'a' * 256, 'ErrNameTooLong'),
    ('aa/asdf$$^/aa', 'ErrReferenceInvalidFormat'),
)


# TestDomainAndPath: WithName(input) -> Domain(), Path(). (input, domain, path)
DOMAIN_AND_PATH = (
    ('test.com/foo', 'test.com', 'foo'),
    ('test_com/foo', '', 'test_com/foo'),
    ('test:8080/foo', 'test:8080', 'foo'),
    ('test.com:8080/foo', 'test.com:8080', 'foo'),
    ('test-com:8080/foo', 'test-com:8080', 'foo'),
    ('xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'),
)


# TestSerialization: a Field unmarshalled from input -> Name(), Tag(), Digest(), or err.
# (description, input, name, tag, digest, err)
SERIALIZATION = (
    ('empty value', '', '', '', '', 'ErrNameEmpty'),
    ('just a name', 'example.com:8000/named', 'example.com:8000/named', '', '', None),
    ('name with a tag', 'example.com:8000/named:tagged', 'example.com:8000/named', 'tagged', '', None),
    (
        'name with digest',
        'other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112',
        'other.com/named',
        '',
        'sha256:1234567890098765432112345667890098765432112345667890098765432112',
        None,
    ),
)


# TestWithTag: WithTag(WithName(name) [+ WithDigest(digest)], tag).String() == combined.
# (name, digest, tag, combined)
WITH_TAG = (
    ('test.com/foo', '', 'tag', 'test.com/foo:tag'),
    ('foo', '', 'tag2', 'foo:tag2'),
    ('test.com:8000/foo', '', 'tag4', 'test.com:8000/foo:tag4'),
    ('test.com:8000/foo', '', 'TAG5', 'test.com:8000/foo:TAG5'),
    (
        'test.com:8000/foo',
        'sha256:1234567890098765432112345667890098765',
        'TAG5',
        'test.com:8000/foo:TAG5@sha256:1234567890098765432112345667890098765',
    ),
)


# TestParseNamed: ParseNamed(input) (ParseNormalizedNamed, refused when its String() is not the input)
# -> Domain(), Path(), or err. (input, domain, path, err)
PARSE_NAMED = (
    ('test.com/foo', 'test.com', 'foo', None),
    ('test:8080/foo', 'test:8080', 'foo', None),
    ('test_com/foo', '', '', 'ErrNameNotCanonical'),
    ('test.com', '', '', 'ErrNameNotCanonical'),
    ('foo', '', '', 'ErrNameNotCanonical'),
    ('library/foo', '', '', 'ErrNameNotCanonical'),
    ('docker.io/library/foo', 'docker.io', 'library/foo', None),
    ('docker.io/foo', '', '', 'ErrNameNotCanonical'),
)


# ---------------------------------------------------------------- normalize_test.go

# TestValidateReferenceName: ParseNormalizedNamed accepts validRepoNames and refuses invalidRepoNames.
VALID_REPO_NAMES = (
    'docker/docker',
    'library/debian',
    'debian',
    'localhost/library/debian',
    'localhost/debian',
    'LOCALDOMAIN/library/debian',
    'LOCALDOMAIN/debian',
    'docker.io/docker/docker',
    'docker.io/library/debian',
    'docker.io/debian',
    'index.docker.io/docker/docker',
    'index.docker.io/library/debian',
    'index.docker.io/debian',
    '127.0.0.1:5000/docker/docker',
    '127.0.0.1:5000/library/debian',
    '127.0.0.1:5000/debian',
    '192.168.0.1',
    '192.168.0.1:80',
    '192.168.0.1:8/debian',
    '192.168.0.2:25000/debian',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    '[fc00::1]:5000/docker',
    '[fc00::1]:5000/docker/docker',
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'Docker/docker',
    'DOCKER/docker',
)
INVALID_REPO_NAMES = (
    'https://github.com/docker/docker',
    'docker/Docker',
    '-docker',
    '-docker/docker',
    '-docker.io/docker/docker',
    'docker///docker',
    'docker.io/docker/Docker',
    'docker.io/docker///docker',
    '[fc00::1]',
    '[fc00::1]:5000',
    'fc00::1:5000/debian',
    '[fe80::1%eth0]:5000/debian',
    '[2001:db8:3:4::192.0.2.33]:5000/debian',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
)


# TestValidateRemoteName: the same, for validRepositoryNames and invalidRepositoryNames.
VALID_REPOSITORY_NAMES = (
    'docker/docker',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    'docker-rules/docker',
    'docker---rules/docker',
    'doc/docker',
    'd/docker',
    'jess/t',
    'dock__er/docker',
)
INVALID_REPOSITORY_NAMES = (
    'docker/Docker',
    'docker///docker',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    '-docker/docker',
    'docker-/docker',
    '-docker-/docker',
    '____/____',
    '_docker/_docker',
    'dock..er/docker',
    'dock_.er/docker',
    'dock-.er/docker',
    'docker/',
    ('this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_na'
        'mespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_le'
        'nth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_25'
        '5/docker'),
)


# TestParseRepositoryInfo: each of FamiliarName, FullName and AmbiguousName (when not '') parses to
# FamiliarName(), String() == FullName, Domain(), Path() == RemoteName.
# (RemoteName, FamiliarName, FullName, AmbiguousName, Domain)
REPOSITORY_INFO = (
    ('fooo', 'localhost/fooo', 'localhost/fooo', 'localhost/fooo', 'localhost'),
    ('fooo/bar', 'localhost/fooo/bar', 'localhost/fooo/bar', 'localhost/fooo/bar', 'localhost'),
    ('fooo', 'LOCALDOMAIN/fooo', 'LOCALDOMAIN/fooo', 'LOCALDOMAIN/fooo', 'LOCALDOMAIN'),
    ('fooo/bar', 'LOCALDOMAIN/fooo/bar', 'LOCALDOMAIN/fooo/bar', 'LOCALDOMAIN/fooo/bar', 'LOCALDOMAIN'),
    ('fooo/bar', 'fooo/bar', 'docker.io/fooo/bar', 'index.docker.io/fooo/bar', 'docker.io'),
    ('library/ubuntu', 'ubuntu', 'docker.io/library/ubuntu', 'library/ubuntu', 'docker.io'),
    ('nonlibrary/ubuntu', 'nonlibrary/ubuntu', 'docker.io/nonlibrary/ubuntu', '', 'docker.io'),
    ('other/library', 'other/library', 'docker.io/other/library', '', 'docker.io'),
    ('private/moonbase', '127.0.0.1:8000/private/moonbase', '127.0.0.1:8000/private/moonbase', '', '127.0.0.1:8000'),
    ('privatebase', '127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase', '', '127.0.0.1:8000'),
    ('private/moonbase', 'example.com/private/moonbase', 'example.com/private/moonbase', '', 'example.com'),
    ('privatebase', 'example.com/privatebase', 'example.com/privatebase', '', 'example.com'),
    (
        'private/moonbase',
        'example.com:8000/private/moonbase',
        'example.com:8000/private/moonbase',
        '',
        'example.com:8000',
    ),
    ('privatebasee', 'example.com:8000/privatebasee', 'example.com:8000/privatebasee', '', 'example.com:8000'),
    (
        'library/ubuntu-12.04-base',
        'ubuntu-12.04-base',
        'docker.io/library/ubuntu-12.04-base',
        'index.docker.io/library/ubuntu-12.04-base',
        'docker.io',
    ),
    ('library/foo', 'foo', 'docker.io/library/foo', 'docker.io/foo', 'docker.io'),
    ('library/foo/bar', 'library/foo/bar', 'docker.io/library/foo/bar', '', 'docker.io'),
    ('store/foo/bar', 'store/foo/bar', 'docker.io/store/foo/bar', '', 'docker.io'),
    ('bar', 'Foo/bar', 'Foo/bar', '', 'Foo'),
    ('bar', 'FOO/bar', 'FOO/bar', '', 'FOO'),
)


# TestParseAnyReference: ParseAnyReference(Reference).String() == Equivalent; Expected is the digest-only
# reference upstream expects, None where it compares with Parse(Equivalent). (Reference, Equivalent, Expected)
PARSE_ANY_REFERENCE = (
    ('redis', 'docker.io/library/redis', None),
    ('redis:latest', 'docker.io/library/redis:latest', None),
    ('docker.io/library/redis:latest', 'docker.io/library/redis:latest', None),
    (
        'redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        'docker.io/library/redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        None,
    ),
    (
        'docker.io/library/redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        'docker.io/library/redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        None,
    ),
    ('dmcgowan/myapp', 'docker.io/dmcgowan/myapp', None),
    ('dmcgowan/myapp:latest', 'docker.io/dmcgowan/myapp:latest', None),
    ('docker.io/mcgowan/myapp:latest', 'docker.io/mcgowan/myapp:latest', None),
    (
        'dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        'docker.io/dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        None,
    ),
    (
        'docker.io/dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        'docker.io/dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        None,
    ),
    (
        'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
    ),
    (
        'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
        'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
    ),
    (
        'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9',
        'docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9',
        None,
    ),
    ('dbcc1', 'docker.io/library/dbcc1', None),
)


# TestNormalizedSplitHostname: ParseNormalizedNamed(input) -> Domain(), Path(). (input, domain, path)
NORMALIZED_SPLIT_HOSTNAME = (
    ('test.com/foo', 'test.com', 'foo'),
    ('test_com/foo', 'docker.io', 'test_com/foo'),
    ('docker/migrator', 'docker.io', 'docker/migrator'),
    ('test.com:8080/foo', 'test.com:8080', 'foo'),
    ('test-com:8080/foo', 'test-com:8080', 'foo'),
    ('foo', 'docker.io', 'library/foo'),
    ('xn--n3h.com/foo', 'xn--n3h.com', 'foo'),
    ('xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'),
    ('docker.io/foo', 'docker.io', 'library/foo'),
    ('docker.io/library/foo', 'docker.io', 'library/foo'),
    ('docker.io/library/foo/bar', 'docker.io', 'library/foo/bar'),
)


# TestParseDockerRef: ParseDockerRef(input).String() == expected. (name, input, expected)
PARSE_DOCKER_REF = (
    ('nothing', 'busybox', 'docker.io/library/busybox:latest'),
    ('tag only', 'busybox:latest', 'docker.io/library/busybox:latest'),
    (
        'digest only',
        'busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582',
        'docker.io/library/busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582',
    ),
    ('path only', 'library/busybox', 'docker.io/library/busybox:latest'),
    ('hostname only', 'docker.io/busybox', 'docker.io/library/busybox:latest'),
    ('no tag', 'docker.io/library/busybox', 'docker.io/library/busybox:latest'),
    ('no path', 'docker.io/busybox:latest', 'docker.io/library/busybox:latest'),
    ('no hostname', 'library/busybox:latest', 'docker.io/library/busybox:latest'),
    ('full reference with tag', 'docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'),
    ('gcr reference without tag', 'gcr.io/library/busybox', 'gcr.io/library/busybox:latest'),
    (
        'both tag and digest',
        'gcr.io/library/busybox:latest@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582',
        'gcr.io/library/busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582',
    ),
)


# ---------------------------------------------------------------- regexp_test.go

# TestDomainRegexp: ^DomainRegexp$ matches input or not. (input, match)
DOMAIN_REGEXP = (
    ('test.com', True),
    ('test.com:10304', True),
    ('test.com:http', False),
    ('localhost', True),
    ('localhost:8080', True),
    ('a', True),
    ('a.b', True),
    ('ab.cd.com', True),
    ('a-b.com', True),
    ('-ab.com', False),
    ('ab-.com', False),
    ('ab.c-om', True),
    ('ab.-com', False),
    ('ab.com-', False),
    ('0101.com', True),
    ('001a.com', True),
    ('b.gbc.io:443', True),
    ('b.gbc.io', True),
    ('xn--n3h.com', True),
    ('Asdf.com', True),
    ('192.168.1.1:75050', True),
    ('192.168.1.1:750050', True),
    ('[fd00:1:2::3]:75050', True),
    ('[fd00:1:2::3]75050', False),
    ('[fd00:1:2::3]::75050', False),
    ('[fd00:1:2::3%eth0]:75050', False),
    ('[fd00123123123]:75050', True),
    ('[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050', True),
    ('[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505', True),
    ('fd00:1:2::3:75050', False),
)


# TestFullNameRegexp: anchoredNameRegexp matches input or not, with submatches (domain, path) where given.
# (input, match, subs)
FULL_NAME_REGEXP = (
    ('', False, None),
    ('short', True, ('', 'short')),
    ('simple/name', True, ('simple', 'name')),
    ('library/ubuntu', True, ('library', 'ubuntu')),
    ('docker/stevvooe/app', True, ('docker', 'stevvooe/app')),
    ('aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb', True, ('aa', 'aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb')),
    ('aa/aa/bb/bb/bb', True, ('aa', 'aa/bb/bb/bb')),
    ('a/a/a/a', True, ('a', 'a/a/a')),
    ('a/a/a/a/', False, None),
    ('a//a/a', False, None),
    ('a', True, ('', 'a')),
    ('a/aa', True, ('a', 'aa')),
    ('a/aa/a', True, ('a', 'aa/a')),
    ('foo.com', True, ('', 'foo.com')),
    ('foo.com/', False, None),
    ('foo.com:8080/bar', True, ('foo.com:8080', 'bar')),
    ('foo.com:http/bar', False, None),
    ('foo.com/bar', True, ('foo.com', 'bar')),
    ('foo.com/bar/baz', True, ('foo.com', 'bar/baz')),
    ('localhost:8080/bar', True, ('localhost:8080', 'bar')),
    ('sub-dom1.foo.com/bar/baz/quux', True, ('sub-dom1.foo.com', 'bar/baz/quux')),
    ('blog.foo.com/bar/baz', True, ('blog.foo.com', 'bar/baz')),
    ('a^a', False, None),
    ('aa/asdf$$^/aa', False, None),
    ('asdf$$^/aa', False, None),
    ('aa-a/a', True, ('aa-a', 'a')),
    ('a/' * 128 + 'a', True, ('a', 'a/' * 127 + 'a')),
    ('a-/a/a/a', False, None),
    ('foo.com/a-/a/a', False, None),
    ('-foo/bar', False, None),
    ('foo/bar-', False, None),
    ('foo-/bar', False, None),
    ('foo/-bar', False, None),
    ('_foo/bar', False, None),
    ('foo_bar', True, ('', 'foo_bar')),
    ('foo_bar.com', True, ('', 'foo_bar.com')),
    ('foo_bar.com:8080', False, None),
    ('foo_bar.com:8080/app', False, None),
    ('foo.com/foo_bar', True, ('foo.com', 'foo_bar')),
    ('____/____', False, None),
    ('_docker/_docker', False, None),
    ('docker_/docker_', False, None),
    ('b.gcr.io/test.example.com/my-app', True, ('b.gcr.io', 'test.example.com/my-app')),
    ('xn--n3h.com/myimage', True, ('xn--n3h.com', 'myimage')),
    ('xn--7o8h.com/myimage', True, ('xn--7o8h.com', 'myimage')),
    ('example.com/xn--7o8h.com/myimage', True, ('example.com', 'xn--7o8h.com/myimage')),
    ('example.com/some_separator__underscore/myimage', True, ('example.com', 'some_separator__underscore/myimage')),
    ('example.com/__underscore/myimage', False, None),
    ('example.com/..dots/myimage', False, None),
    ('example.com/.dots/myimage', False, None),
    ('example.com/nodouble..dots/myimage', False, None),
    ('example.com/nodouble..dots/myimage', False, None),
    ('docker./docker', False, None),
    ('.docker/docker', False, None),
    ('docker-/docker', False, None),
    ('-docker/docker', False, None),
    ('do..cker/docker', False, None),
    ('do__cker:8080/docker', False, None),
    ('do__cker/docker', True, ('', 'do__cker/docker')),
    ('b.gcr.io/test.example.com/my-app', True, ('b.gcr.io', 'test.example.com/my-app')),
    (
        'registry.io/foo/project--id.module--name.ver---sion--name',
        True,
        ('registry.io', 'foo/project--id.module--name.ver---sion--name'),
    ),
    ('Asdf.com/foo/bar', True, None),
    ('Foo/FarB', False, None),
)


# TestReferenceRegexp: ReferenceRegexp matches input or not, with submatches (name, tag, digest).
# (input, match, subs)
REFERENCE_REGEXP = (
    ('registry.com:8080/myapp:tag', True, ('registry.com:8080/myapp', 'tag', '')),
    (
        'registry.com:8080/myapp@sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912',
        True,
        ('registry.com:8080/myapp', '', 'sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912'),
    ),
    (
        'registry.com:8080/myapp:tag2@sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912',
        True,
        ('registry.com:8080/myapp', 'tag2', 'sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912'),
    ),
    ('registry.com:8080/myapp@sha256:badbadbadbad', False, None),
    ('registry.com:8080/myapp:invalid~tag', False, None),
    ('bad_hostname.com:8080/myapp:tag', False, None),
    (
        'localhost:8080@sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912',
        True,
        ('localhost', '8080', 'sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912'),
    ),
    (
        'localhost:8080/name@sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912',
        True,
        ('localhost:8080/name', '', 'sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912'),
    ),
    ('localhost:http/name@sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912', False, None),
    (
        'localhost@sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912',
        True,
        ('localhost', '', 'sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912'),
    ),
    ('registry.com:8080/myapp@bad', False, None),
    ('registry.com:8080/myapp@2bad', False, None),
)


# TestIdentifierRegexp: anchoredIdentifierRegexp matches input or not. (input, match)
IDENTIFIER_REGEXP = (
    ('da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821', True),
    ('7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C', False),
    ('da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf', False),
    ('sha256:da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821', False),
    ('da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf98218482', False),
)
