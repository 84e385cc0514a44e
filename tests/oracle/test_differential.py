"""kiln's .dockerignore rules and image references against the Go code they re-implement.

The oracle (main.go, built by build.py) runs moby/patternmatcher and distribution/reference at the
versions go.mod pins. Cases come from small grammars and a fixed seed, so a run is repeatable; a
difference prints the case. Run with scripts/oracle.sh.
"""

import importlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.context import dockerignore

sys.path.insert(0, str(Path(__file__).resolve().parent))

import build  # noqa: E402  (tests/oracle/build.py)

SEED = int(os.environ.get("KILN_ORACLE_SEED", "20260101"))
MATCH_CASES = int(os.environ.get("KILN_ORACLE_CASES", "4000"))
IGNOREFILE_CASES = MATCH_CASES // 4
REFERENCE_CASES = MATCH_CASES

# ---------------------------------------------------------------- the oracle


@pytest.fixture(scope="module")
def oracle():
    """A function sending requests to the oracle and returning its answers, in order."""
    try:
        binary = build.build()
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail("the oracle cannot be built: %s" % exc)

    def ask(requests):
        data = "".join(json.dumps(request) + "\n" for request in requests)
        done = subprocess.run([str(binary)], input=data.encode(), capture_output=True, check=True, timeout=600)
        answers = [json.loads(line) for line in done.stdout.decode().split("\n")[:-1]]
        assert len(answers) == len(requests), done.stderr.decode()
        return answers
    return ask


def report(kind, cases, differences, outcomes=None):
    counts = ""
    if outcomes:
        counts = " (%s)" % ", ".join("%s %d" % (name, outcomes.count(name)) for name in sorted(set(outcomes)))
    print("%s: seed %d, %d cases%s, %d differences" % (kind, SEED, len(cases), counts, len(differences)))
    for difference in differences[:20]:
        print("  " + json.dumps(difference, ensure_ascii=False))


# ---------------------------------------------------------------- .dockerignore

WORDS = ("a", "b", "ab", "foo", "x.y", "a.log", "debug.log", ".git", "node_modules", "é", "a b", "1", "Z_9")
CLASSES = ("[ab]", "[^a]", "[a-c]", "[!a]", "[]a]", "[\\]a]", "[[:digit:]]", "[^/]", "[a-]", "[\\-x]", "[.]",
           "[é]", "[^]a]", "[[:^alpha:]]", "[\\d]")
BAD_CLASSES = ("[", "[-]", "[a-b-c]", "[z-a]", "[*]", "[?]", "[[]", "[]", "[\\", "[a", "]", "[[:foo:]]")
# After a backslash: letters Go's regexp reads as escapes (\d, \b, \Q, \x41, \0...) and punctuation;
# not p or P, the Unicode classes kiln refuses instead of evaluating (go_regexp.Unsupported).
ESCAPED = "*?[]\\.+(){}|$^/!#abdDsSwWQEzAfntrvx0127iCe "
# '{', '}' and '|' reach Go's regexp unescaped (see dockerignore._REGEXP_ESCAPED): counts and alternatives.
ATOMS = ("*", "**", "?", "/", "..", ".", "**/", "/**", "*.log", "a*", "*b", "{2}", "{1,2}", "{0,}", "|", "{2,1}",
         "{1001}", "{", "}", "{01}", "^", "$", "(", ")")


def random_pattern(rng):
    parts = []
    for _ in range(rng.randint(1, 5)):
        roll = rng.random()
        if roll < 0.4:
            parts.append(rng.choice(WORDS))
        elif roll < 0.7:
            parts.append(rng.choice(ATOMS))
        elif roll < 0.8:
            parts.append(rng.choice(CLASSES))
        elif roll < 0.83:
            parts.append(rng.choice(BAD_CLASSES))
        elif roll < 0.9:
            parts.append("\\" + rng.choice(ESCAPED) + rng.choice(("", "41", "{41}", "Q")))
        else:
            parts.append(rng.choice(("/", " ", "\t", "//", "./", "../")))
    pattern = "".join(parts)
    roll = rng.random()
    if roll < 0.15:
        pattern = "!" + pattern
    elif roll < 0.2:
        pattern = rng.choice(("!", "! ", "!/", " ! ", "!../..", "/", " / ")) + rng.choice(("", pattern))
    elif roll < 0.3:
        pattern = rng.choice(("/", " ", "./", "/ ")) + pattern + rng.choice(("", "/", " ", " /"))
    return pattern


def random_path(rng, patterns):
    """A path, often one made from a pattern (wildcards filled in) so that many cases match."""
    if patterns and rng.random() < 0.5:
        text = rng.choice(patterns).lstrip("!").strip(" /\t")
        for wildcard, fills in (("**", ("", "a/b", "x")), ("*", ("", "a", "zz")), ("?", ("q", "/"))):
            text = text.replace(wildcard, rng.choice(fills))
        text = text.replace("\\", "").replace("[", "").replace("]", "")
        if rng.random() < 0.3:
            text += "/" + rng.choice(WORDS)
        return text or "a"
    return "/".join(rng.choice(WORDS + ("[a]", "*", "a$", "x+y", "ab/c", "a\\b")) for _ in range(rng.randint(1, 4)))


def match_cases(rng):
    cases = []
    for _ in range(MATCH_CASES):
        patterns = [random_pattern(rng) for _ in range(rng.choice((1, 1, 2, 3, 4)))]
        cases.append({"op": "match", "patterns": patterns, "path": random_path(rng, patterns)})
    return cases


def kiln_match(case):
    try:
        patterns = dockerignore.compile_patterns(list(enumerate(case["patterns"], 1)))
        return {"ok": True, "matched": dockerignore.excluded(patterns, case["path"])}
    except dockerignore.PatternError as exc:
        return {"ok": False, "error": str(exc)}


def test_dockerignore_matches_patternmatcher(oracle):
    cases = match_cases(random.Random(SEED))
    differences, outcomes = [], []
    for case, answer in zip(cases, oracle(cases)):
        ours = kiln_match(case)
        theirs = (answer["ok"], answer["matched"] if answer["ok"] else False)
        outcomes.append("error" if not answer["ok"] else "matched" if answer["matched"] else "not matched")
        if (ours["ok"], ours.get("matched", False)) != theirs:
            differences.append({"case": case, "kiln": ours, "patternmatcher": answer})
    report("dockerignore match", cases, differences, outcomes)
    assert len(cases) == MATCH_CASES and not differences


LINE_BREAKS = ("\n", "\r\n", "\r", "\f", "\v", "\u2028", "\x1c", "\x85", "\n\n")


def ignorefile_cases(rng):
    cases = []
    for _ in range(IGNOREFILE_CASES):
        lines = []
        for _ in range(rng.randint(1, 6)):
            line = random_pattern(rng)
            roll = rng.random()
            if roll < 0.15:
                line = "#" + line
            elif roll < 0.3:
                line = rng.choice((" ", "\t", "\xa0", "\u3000", "\x1f", "\ufeff")) + line
            lines.append(line + rng.choice(LINE_BREAKS))
        text = "".join(lines)
        if rng.random() < 0.2:
            text = "\ufeff" + text
        cases.append({"op": "ignorefile", "text": text if rng.random() < 0.8 else text.rstrip("\n")})
    return cases


def test_dockerignore_file_is_read_as_ignorefile_reads_it(oracle):
    cases = ignorefile_cases(random.Random(SEED + 1))
    differences = []
    for case, answer in zip(cases, oracle(cases)):
        ours = [pattern for _number, pattern in dockerignore.read_lines(case["text"])]
        if ours != answer.get("patterns", []):
            differences.append({"case": case, "kiln": ours, "ignorefile": answer})
    report("dockerignore ReadAll", cases, differences)
    assert not differences


# ---------------------------------------------------------------- image references

HEX = "0123456789abcdef"
DOMAINS = ("docker.io", "index.docker.io", "registry-1.docker.io", "localhost", "localhost:5000", "example.com",
           "a.b.c:443", "[::1]:5000", "[fe80::1]", "Example.COM", "my_host", "host:", "-bad.com", "bad-.com",
           "192.168.1.1:8080", "127.0.0.1", "xn--80ak6aa92e.com", "a:99999", "LOCALHOST", "host.:5000")
COMPONENTS = ("busybox", "library", "app", "a__b", "a___b", "a-b", "a--b", "-a", "a.", "a..b", "a_b", "UPPER",
              "a.b", "x", "0", "a" * 60, "ü", "a+b", "")
TAGS = ("", ":latest", ":v1.0", ":_x", ":.x", ":-x", ":" + "a" * 128, ":" + "a" * 129, ":", ":A_b-9.z")
DIGESTS = ("", "", "@sha256:" + HEX * 4, "@sha256:" + (HEX * 4)[:63], "@sha512:" + HEX * 8,
           "@sha256:" + (HEX * 4).upper(), "@md5:" + HEX * 2, "@sha256", "@", "@sha256:" + HEX * 4 + "0",
           "@a+b.c_d-e:" + "x" * 32)


def random_reference(rng):
    name = "/".join(rng.choice(COMPONENTS[:-1]) for _ in range(rng.choice((1, 1, 2, 3))))
    if rng.random() < 0.6:
        name = rng.choice(DOMAINS) + "/" + name
    text = name + rng.choice(TAGS) + rng.choice(DIGESTS)
    if rng.random() < 0.3:  # a near-miss: one character inserted, deleted or doubled
        index = rng.randrange(len(text) + 1)
        edit = rng.choice(("insert", "delete", "double"))
        if edit == "insert":
            text = text[:index] + rng.choice(" /:@.-_A#") + text[index:]
        elif text:
            index = min(index, len(text) - 1)
            text = text[:index] + (text[index] * 2 if edit == "double" else "") + text[index + 1:]
    return text


def image_reference_type():
    module = importlib.import_module("ansible_collections.kiln.kaniko.plugins.module_utils._registry.reference")
    return getattr(module, "ImageReference", None), module


def test_references_match_distribution_reference(oracle):
    image_reference, module = image_reference_type()
    if image_reference is None:
        pytest.skip("plugins/module_utils/_registry/reference.py has no ImageReference yet (the parser that "
                    "exposes ImageReference.parse is written in another branch); this runs once it is there")
    from ansible_collections.kiln.kaniko.plugins.module_utils._registry.errors import InvalidReference

    rng = random.Random(SEED + 2)
    cases = [{"op": "reference", "text": random_reference(rng)} for _ in range(REFERENCE_CASES)]
    differences = []
    for case, answer in zip(cases, oracle(cases)):
        try:
            parsed = image_reference.parse(case["text"])
            ours = (True, parsed.domain, parsed.path, parsed.tag, parsed.digest)
        except InvalidReference:
            ours = (False, None, None, None, None)
        if answer["ok"]:
            theirs = (True, answer["domain"], answer["path"], answer.get("tag"), answer.get("digest"))
        else:
            theirs = (False, None, None, None, None)
        if ours != theirs:
            differences.append({"case": case["text"], "kiln": ours, "reference": answer})
    report("reference", cases, differences)
    assert not differences
