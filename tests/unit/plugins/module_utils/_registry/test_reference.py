# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ImageReference against distribution/reference's own test tables (distribution_reference_cases.py), then ours."""

from __future__ import annotations

import dataclasses

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._registry import reference
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import InvalidReference
from ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference import (
    ImageReference,
    registry_host_problem,
)
from ansible_collections.kiln.kaniko.tests.unit.plugins.module_utils._registry import (
    distribution_reference_cases as upstream,
)

DIGEST = 'sha256:' + 'a' * 64


def parse(text):
    return ImageReference.parse(text)


def names_a_domain(component):
    """Docker's rule (splitDockerDomain) for a first component that is a domain."""
    return '.' in component or ':' in component or component == 'localhost' or component.lower() != component


def or_none(value):
    """Go's '' for a missing tag or digest is None here."""
    return value or None


# ---------------------------------------------------------------- reference_test.go

@pytest.mark.parametrize('text, err, repository, domain, tag, digest', upstream.REFERENCE_PARSE)
def test_reference_parse(text, err, repository, domain, tag, digest):
    """TestReferenceParse is about Parse, which leaves a name without a domain as it is. ImageReference.parse
    is ParseNormalizedNamed (Parse after splitDockerDomain): where upstream's domain is one by Docker's
    rule the answer is the same; otherwise the name is on Docker Hub, and its familiar form is the input."""
    if err:
        with pytest.raises(InvalidReference):
            parse(text)
        return
    ref = parse(text)
    assert (ref.tag, ref.digest) == (or_none(tag), or_none(digest))
    if domain and names_a_domain(domain):
        assert (ref.domain, ref.name, str(ref)) == (domain, repository, text)
    else:
        official = '' if '/' in repository else 'library/'
        assert (ref.domain, ref.name, ref.familiar) == ('docker.io', 'docker.io/' + official + repository, text)


@pytest.mark.parametrize('text, err', upstream.WITH_NAME_FAILURE)
def test_with_name_failure(text, err):
    """WithName is anchoredNameRegexp plus the length limit on the path."""
    match = reference.NAME_RE.fullmatch(text)
    if err == 'ErrNameTooLong':
        assert len(match.group(2)) > reference.PATH_LENGTH_MAX
        with pytest.raises(InvalidReference):
            parse(text)
    else:
        assert match is None


@pytest.mark.parametrize('text, domain, path', upstream.DOMAIN_AND_PATH)
def test_domain_and_path(text, domain, path):
    found_domain, found_path = reference.NAME_RE.fullmatch(text).groups()
    assert (found_domain or '', found_path) == (domain, path)


@pytest.mark.parametrize('description, text, name, tag, digest, err', upstream.SERIALIZATION)
def test_serialization(description, text, name, tag, digest, err):
    """TestSerialization unmarshals a Field with Parse; the JSON round trip is Go's own."""
    if err:
        with pytest.raises(InvalidReference):
            parse(text)
        return
    ref = parse(text)
    assert (ref.name, ref.tag, ref.digest) == (name, or_none(tag), or_none(digest))


@pytest.mark.parametrize('name, digest, tag, combined', [row for row in upstream.WITH_TAG if not row[1]])
def test_with_tag(name, digest, tag, combined):
    """The row with a digest is left out: its 'sha256:' and 39 hex digits is no digest go-digest accepts
    (WithDigest only checks the regexp), so parse refuses it."""
    assert parse(name).with_tag(tag).familiar == combined


@pytest.mark.parametrize('text, domain, path, err', upstream.PARSE_NAMED)
def test_parse_named(text, domain, path, err):
    """ParseNamed is ParseNormalizedNamed that refuses what does not come back as written (ErrNameNotCanonical)."""
    ref = parse(text)
    if err:
        assert err == 'ErrNameNotCanonical' and str(ref) != text
    else:
        assert (str(ref), ref.domain, ref.path) == (text, domain, path)


# ---------------------------------------------------------------- normalize_test.go

@pytest.mark.parametrize('text', upstream.VALID_REPO_NAMES + upstream.VALID_REPOSITORY_NAMES)
def test_valid_names(text):
    parse(text)


@pytest.mark.parametrize('text', upstream.INVALID_REPO_NAMES + upstream.INVALID_REPOSITORY_NAMES)
def test_invalid_names(text):
    with pytest.raises(InvalidReference):
        parse(text)


@pytest.mark.parametrize('remote_name, familiar_name, full_name, ambiguous_name, domain', upstream.REPOSITORY_INFO)
def test_parse_repository_info(remote_name, familiar_name, full_name, ambiguous_name, domain):
    for text in filter(None, (familiar_name, full_name, ambiguous_name)):
        ref = parse(text)
        assert (ref.familiar, str(ref), ref.domain, ref.path) == (familiar_name, full_name, domain, remote_name), text


def test_parse_reference_with_tag_and_digest():
    """TestParseReferenceWithTagAndDigest."""
    short = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa'
    ref = parse(short)
    assert str(ref) == 'docker.io/library/' + short
    assert ref.tag and ref.digest
    assert ref.familiar == short


def test_invalid_reference_components():
    """TestInvalidReferenceComponents; its WithDigest(ref, "foo") has no counterpart (no with_digest here)."""
    with pytest.raises(InvalidReference):
        parse('-foo')
    with pytest.raises(InvalidReference):
        parse('busybox').with_tag('-foo')


@pytest.mark.parametrize('text, equivalent, expected', [row for row in upstream.PARSE_ANY_REFERENCE if not row[2]])
def test_parse_any_reference(text, equivalent, expected):
    """ParseAnyReference is ParseNormalizedNamed except for digest-only references (the two rows with
    Expected), which are Go-only: an ImageReference always names a repository. See the next test."""
    assert str(parse(text)) == equivalent


def test_what_parse_any_reference_takes_as_a_digest():
    """ParseNormalizedNamed's answers for the two digest-only inputs of TestParseAnyReference."""
    identifier, digest = [row[0] for row in upstream.PARSE_ANY_REFERENCE if row[2]]
    with pytest.raises(InvalidReference):
        parse(identifier)
    ref = parse(digest)
    assert (ref.name, ref.tag, ref.digest) == ('docker.io/library/sha256', identifier, None)


@pytest.mark.parametrize('text, domain, path', upstream.NORMALIZED_SPLIT_HOSTNAME)
def test_normalized_split_hostname(text, domain, path):
    ref = parse(text)
    assert (ref.domain, ref.path) == (domain, path)


@pytest.mark.parametrize('name, text, expected', [row for row in upstream.PARSE_DOCKER_REF
                                                  if row[0] != 'both tag and digest'])
def test_parse_docker_ref(name, text, expected):
    """ParseDockerRef is TagNameOnly (with_default_tag) of ParseNormalizedNamed, and drops the tag of a
    reference that has a digest too. That row is left out: image_info reads by the digest and reports the
    tag it was given, so with_default_tag keeps both."""
    assert str(parse(text).with_default_tag()) == expected


# ---------------------------------------------------------------- regexp_test.go

@pytest.mark.parametrize('text, match', upstream.DOMAIN_REGEXP)
def test_domain_regexp(text, match):
    assert bool(reference.DOMAIN_RE.fullmatch(text)) is match


def check_regexp(regexp, text, match, subs):
    found = regexp.fullmatch(text)
    assert bool(found) is match
    if match and subs:
        assert tuple(group or '' for group in found.groups())[:len(subs)] == subs


@pytest.mark.parametrize('text, match, subs', upstream.FULL_NAME_REGEXP)
def test_full_name_regexp(text, match, subs):
    check_regexp(reference.NAME_RE, text, match, subs)


@pytest.mark.parametrize('text, match, subs', upstream.REFERENCE_REGEXP)
def test_reference_regexp(text, match, subs):
    check_regexp(reference.REFERENCE_RE, text, match, subs)


@pytest.mark.parametrize('text, match', upstream.IDENTIFIER_REGEXP)
def test_identifier_regexp(text, match):
    assert bool(reference.IDENTIFIER_RE.fullmatch(text)) is match


# ---------------------------------------------------------------- this collection's cases

@pytest.mark.parametrize('text, expected', [
    ('198.51.100.2:5000/team/app:1.0', ('198.51.100.2:5000', 'team/app', '1.0', None)),
    ('registry.example.com/app', ('registry.example.com', 'app', None, None)),
    ('localhost/app:v2', ('localhost', 'app', 'v2', None)),
    ('localhost:5000/a/b/c:x_y.z-1', ('localhost:5000', 'a/b/c', 'x_y.z-1', None)),
    ('registry:5000/app@' + DIGEST, ('registry:5000', 'app', None, DIGEST)),
    ('registry:5000/app:1.0@' + DIGEST, ('registry:5000', 'app', '1.0', DIGEST)),
    ('[fd00::1]:5000/app:1', ('[fd00::1]:5000', 'app', '1', None)),
    ('registry.svc.cluster.local:5000/my_app__x/a-b:latest',
     ('registry.svc.cluster.local:5000', 'my_app__x/a-b', 'latest', None)),
    # Docker Hub: no host component; official images are under library/.
    ('busybox', ('docker.io', 'library/busybox', None, None)),
    ('busybox:1.35', ('docker.io', 'library/busybox', '1.35', None)),
    ('alpine/git:2.49.1', ('docker.io', 'alpine/git', '2.49.1', None)),
    ('docker.io/busybox', ('docker.io', 'library/busybox', None, None)),
    ('index.docker.io/library/busybox', ('docker.io', 'library/busybox', None, None)),
    # Only index.docker.io is rewritten; an upper-case first component is a domain.
    ('registry-1.docker.io/library/busybox', ('registry-1.docker.io', 'library/busybox', None, None)),
    ('Registry/app', ('Registry', 'app', None, None)),
    ('r.example/app@sha512:' + 'b' * 128, ('r.example', 'app', None, 'sha512:' + 'b' * 128)),
    ('r.example/' + 'a' * 255, ('r.example', 'a' * 255, None, None)),  # the limit is on the path
])
def test_parse(text, expected):
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == expected
    assert ref.repository == ref.path


def test_properties():
    ref = parse('busybox@' + DIGEST)
    assert ref.api_host == 'registry-1.docker.io'
    assert ref.manifest_reference == DIGEST
    assert (ref.name, str(ref), ref.familiar) == ('docker.io/library/busybox', 'docker.io/library/busybox@' + DIGEST,
                                                  'busybox@' + DIGEST)
    ref = parse('r.example:443/a:b')
    assert (ref.api_host, ref.manifest_reference, str(ref), ref.familiar) == (
        'r.example:443', 'b', 'r.example:443/a:b', 'r.example:443/a:b')
    assert parse('r.example/a').manifest_reference == 'latest'
    assert parse('team/app').familiar == 'team/app'


def test_a_value_is_frozen_and_compares_by_its_parts():
    assert parse('busybox') == parse('docker.io/library/busybox') == ImageReference('docker.io', 'library/busybox')
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse('busybox').tag = '1'


def test_with_tag_and_the_default_tag():
    ref = parse('registry:5000/app')
    assert str(ref.with_tag('1.0')) == 'registry:5000/app:1.0'
    assert str(ref.with_default_tag()) == 'registry:5000/app:latest'
    assert parse('registry:5000/app@' + DIGEST).with_default_tag().tag is None
    with pytest.raises(InvalidReference) as caught:
        ref.with_tag('café')
    assert str(caught.value) == "'registry:5000/app:café' is not a valid image reference ('café' is not a valid tag)"


@pytest.mark.parametrize('text, message', [
    ('', "'' is not a valid image reference (it is empty)"),
    ('registry:5000/app:café', "'registry:5000/app:café' is not a valid image reference ('café' is not a valid tag: "
                               "it may hold only ASCII letters, digits, _, . and - and must not start with . or -)"),
    ('f' * 64, "'{0}' is not a valid image reference (it is 64 hexadecimal digits, which is an image ID, not a "
               "repository name)".format('f' * 64)),
    ('r:5000/app@md5:' + 'c' * 32, "'r:5000/app@md5:{0}' is not a valid image reference (the digest 'md5:{0}' uses "
                                   "the algorithm 'md5'; it must be sha256, sha384 or sha512)".format('c' * 32)),
    ('Foo/Bar', "'Foo/Bar' is not a valid image reference (repository names are lower case)"),
])
def test_messages(text, message):
    with pytest.raises(InvalidReference) as caught:
        parse(text)
    assert str(caught.value) == message
    assert caught.value.details == {'reference': text}


@pytest.mark.parametrize('text, message', [
    ('https://registry/app:1', 'no scheme'),
    ('registry:5000/App:1', 'lower case'),
    ('registry:5000/app:', 'not a valid tag'),
    ('registry:5000/app:-x', 'not a valid tag'),
    ('registry:5000/app:' + 'x' * 129, 'not a valid tag: it is longer than 128 characters'),
    ('registry:5000/a//b', "''"),
    ('registry:5000/app@sha256:abc', 'not a digest'),
    ('registry:5000/app@sha256:' + 'A' * 64, 'lower-case hex'),
    ('registry:5000/app@sha256:' + 'a' * 63, 'not a sha256 digest'),
    ('registry:5000/app@md5', 'not a digest'),
    ('registry:5000/app@blake3:' + 'c' * 64, "the algorithm 'blake3'"),
    ('registry:5000/app@Sha256:' + 'a' * 64, "the algorithm 'Sha256'"),
    ('bad_host.example:5000/app', "'bad_host.example:5000' is not a valid registry host[:port]"),
    ('[fe80::1%eth0]:5000/app', 'registry host'),
    ('[fd00::1]:5000', 'needs a repository'),
    ('registry:5000/a b', 'white space'),
    ('  registry:5000/app  ', 'white space'),  # taken as written: nothing is stripped
    ('registry:5000/app\n', 'white space'),
    ('r:1/' + 'a' * 260, 'longer than 255'),
    ('a' * 250, 'longer than 255 characters (258)'),  # library/ counts
])
def test_invalid(text, message):
    with pytest.raises(InvalidReference) as err:
        parse(text)
    assert message in str(err.value)


def test_a_reference_without_a_domain_can_be_refused():
    """distribution reads 'a_b.c/app' as path 'a_b.c/app' without a domain; a caller that needs a registry refuses it."""
    ref = parse('a_b.c/app')
    assert (ref.domain, ref.path, ref.name) == ('', 'a_b.c/app', 'a_b.c/app')
    with pytest.raises(InvalidReference) as caught:
        ImageReference.parse('a_b.c/app', need_registry=True)
    assert str(caught.value) == "'a_b.c/app' is not a valid image reference ('a_b.c' is not a valid registry host[:port])"


@pytest.mark.parametrize('value, fine', [
    ('registry:5000', True), ('[fd00::1]:5000', True), ('10.0.0.1', True), ('Registry.Example', True),
    ('registry:port', False), ('registry:5000\n', False), ('https://registry', False), ('', False), (None, False),
])
def test_registry_host_problem(value, fine):
    assert (registry_host_problem(value) is None) is fine
