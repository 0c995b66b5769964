"""Event patterns match as the EventBridge documentation describes.

Each case is a pattern, an event and the expected outcome, written from the
EventBridge user guide pages on event patterns, content filtering, null
values and empty strings, and arrays. Every case is checked twice: through
the indexed RuleSet and by testing the rule's conjunctions directly.
"""

import pytest

from router.rules import RuleSet

pytestmark = pytest.mark.unit

EC2 = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {
        "instance-id": "i-1234567890abcdef0",
        "state": "terminated",
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.123",
        "source-ip6": "2001:db8::1",
        "eventVersion": "",
        "responseElements": None,
        "FileName": "image.PNG",
        "filePath": "/usr/lib/python3",
        "service": "EventBridge",
        "location": "New York",
        "flag": True,
        "one": 1,
        "tags": ["blue", "green"],
        "nested": [[1, 2], [3]],
        "empty": [],
        "object": {"inner": "x"},
    },
}

TEAM = {
    "team": [
        {"name": "bob", "role": "engineer"},
        {"name": "alice", "role": "manager"},
    ]
}

CASES = [
    # Exact values, AND across fields, OR within an array.
    ("exact-string", {"source": ["aws.ec2"]}, EC2, True),
    ("exact-other-string", {"source": ["aws.s3"]}, EC2, False),
    ("exact-is-case-sensitive", {"source": ["AWS.EC2"]}, EC2, False),
    ("or-within-array", {"source": ["aws.s3", "aws.ec2"]}, EC2, True),
    (
        "and-across-fields",
        {"source": ["aws.ec2"], "detail": {"state": ["running"]}},
        EC2,
        False,
    ),
    ("nested-field", {"detail": {"state": ["terminated"]}}, EC2, True),
    ("field-missing", {"detail": {"nope": ["terminated"]}}, EC2, False),
    ("exact-number", {"detail": {"c-count": [5]}}, EC2, True),
    ("exact-number-float-form", {"detail": {"c-count": [5.0]}}, EC2, True),
    ("number-is-not-string", {"detail": {"c-count": ["5"]}}, EC2, False),
    ("boolean-true", {"detail": {"flag": [True]}}, EC2, True),
    ("one-is-not-true", {"detail": {"one": [True]}}, EC2, False),
    ("true-is-not-one", {"detail": {"flag": [1]}}, EC2, False),
    # Arrays in events: a match on any element.
    (
        "array-any-element",
        {
            "resources": [
                "arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"
            ]
        },
        EC2,
        True,
    ),
    ("array-second-element", {"detail": {"tags": ["green"]}}, EC2, True),
    ("array-no-element", {"detail": {"tags": ["red"]}}, EC2, False),
    ("nested-arrays-flatten", {"detail": {"nested": [3]}}, EC2, True),
    (
        "same-element-for-object-arrays",
        {"team": {"name": ["bob"], "role": ["manager"]}},
        TEAM,
        False,
    ),
    (
        "one-element-matches-all",
        {"team": {"name": ["alice"], "role": ["manager"]}},
        TEAM,
        True,
    ),
    # Null and empty strings are values, and not interchangeable.
    ("empty-string", {"detail": {"eventVersion": [""]}}, EC2, True),
    ("null", {"detail": {"responseElements": [None]}}, EC2, True),
    ("null-is-not-empty", {"detail": {"eventVersion": [None]}}, EC2, False),
    ("empty-is-not-null", {"detail": {"responseElements": [""]}}, EC2, False),
    ("null-needs-the-field", {"detail": {"absent": [None]}}, EC2, False),
    # prefix / suffix and their equals-ignore-case forms.
    ("prefix", {"time": [{"prefix": "2017-12-22"}]}, EC2, True),
    ("prefix-miss", {"time": [{"prefix": "2017-10-02"}]}, EC2, False),
    ("prefix-needs-a-string", {"detail": {"c-count": [{"prefix": "5"}]}}, EC2, False),
    (
        "prefix-ignore-case",
        {"detail": {"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}},
        EC2,
        True,
    ),
    (
        "suffix-is-case-sensitive",
        {"detail": {"FileName": [{"suffix": ".png"}]}},
        EC2,
        False,
    ),
    (
        "suffix-ignore-case",
        {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
        EC2,
        True,
    ),
    (
        "equals-ignore-case",
        {"detail": {"location": [{"equals-ignore-case": "new york"}]}},
        EC2,
        True,
    ),
    (
        "equals-ignore-case-miss",
        {"detail": {"location": [{"equals-ignore-case": "new"}]}},
        EC2,
        False,
    ),
    # anything-but in every form; it never matches a missing field.
    (
        "anything-but-string",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        EC2,
        True,
    ),
    (
        "anything-but-same",
        {"detail": {"state": [{"anything-but": "terminated"}]}},
        EC2,
        False,
    ),
    (
        "anything-but-list",
        {"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}},
        EC2,
        False,
    ),
    (
        "anything-but-number",
        {"detail": {"x-limit": [{"anything-but": 123}]}},
        EC2,
        True,
    ),
    (
        "anything-but-same-number",
        {"detail": {"x-limit": [{"anything-but": [301.8, 5]}]}},
        EC2,
        False,
    ),
    (
        "anything-but-prefix",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        EC2,
        True,
    ),
    (
        "anything-but-prefix-hit",
        {"detail": {"state": [{"anything-but": {"prefix": "term"}}]}},
        EC2,
        False,
    ),
    (
        "anything-but-suffix",
        {"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}},
        EC2,
        True,
    ),
    (
        "anything-but-ignore-case",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": "TERMINATED"}}]}},
        EC2,
        False,
    ),
    (
        "anything-but-ignore-case-list",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": ["A", "B"]}}]}},
        EC2,
        True,
    ),
    (
        "anything-but-wildcard",
        {"detail": {"filePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}},
        EC2,
        False,
    ),
    (
        "anything-but-wildcard-other",
        {"detail": {"filePath": [{"anything-but": {"wildcard": "*/bin/*"}}]}},
        EC2,
        True,
    ),
    (
        "anything-but-missing-field",
        {"detail": {"absent": [{"anything-but": "x"}]}},
        EC2,
        False,
    ),
    (
        "anything-but-any-array-element",
        {"detail": {"tags": [{"anything-but": "blue"}]}},
        EC2,
        True,
    ),
    # numeric ranges, only on JSON numbers.
    (
        "numeric-range",
        {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}},
        EC2,
        True,
    ),
    (
        "numeric-open-bound",
        {"detail": {"c-count": [{"numeric": [">", 5]}]}},
        EC2,
        False,
    ),
    ("numeric-upper", {"detail": {"d-count": [{"numeric": ["<", 10]}]}}, EC2, True),
    ("numeric-equals", {"detail": {"x-limit": [{"numeric": ["=", 301.8]}]}}, EC2, True),
    ("numeric-on-string", {"detail": {"state": [{"numeric": [">", 0]}]}}, EC2, False),
    # wildcard.
    ("wildcard", {"detail": {"filePath": [{"wildcard": "/usr/*/python*"}]}}, EC2, True),
    (
        "wildcard-is-case-sensitive",
        {"detail": {"FileName": [{"wildcard": "*.png"}]}},
        EC2,
        False,
    ),
    (
        "wildcard-whole-value",
        {"detail": {"filePath": [{"wildcard": "/usr/*"}]}},
        EC2,
        True,
    ),
    (
        "wildcard-must-reach-the-end",
        {"detail": {"filePath": [{"wildcard": "*/lib"}]}},
        EC2,
        False,
    ),
    ("wildcard-escaped-star", {"v": [{"wildcard": "a\\*b"}]}, {"v": "a*b"}, True),
    (
        "wildcard-escaped-star-literal",
        {"v": [{"wildcard": "a\\*b"}]},
        {"v": "axxb"},
        False,
    ),
    ("wildcard-overlap", {"v": [{"wildcard": "ab*ba"}]}, {"v": "aba"}, False),
    # exists, on leaves only.
    ("exists-true", {"detail": {"state": [{"exists": True}]}}, EC2, True),
    ("exists-false-absent", {"detail": {"absent": [{"exists": False}]}}, EC2, True),
    ("exists-false-present", {"detail": {"state": [{"exists": False}]}}, EC2, False),
    (
        "exists-nested-leaf",
        {"detail": {"object": {"inner": [{"exists": True}]}}},
        EC2,
        True,
    ),
    ("exists-not-on-objects", {"detail": {"object": [{"exists": True}]}}, EC2, False),
    ("exists-false-on-object", {"detail": {"object": [{"exists": False}]}}, EC2, True),
    (
        "exists-null-is-a-value",
        {"detail": {"responseElements": [{"exists": True}]}},
        EC2,
        True,
    ),
    ("exists-empty-array", {"detail": {"empty": [{"exists": True}]}}, EC2, False),
    (
        "exists-false-across-array-elements",
        {"team": {"role": [{"exists": False}]}},
        {"team": [{"name": "x"}, {"role": "y"}]},
        False,
    ),
    # cidr, IPv4 and IPv6.
    ("cidr", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, EC2, True),
    ("cidr-miss", {"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}, EC2, False),
    ("cidr-ipv6", {"detail": {"source-ip6": [{"cidr": "2001:db8::/32"}]}}, EC2, True),
    (
        "cidr-not-an-address",
        {"detail": {"state": [{"cidr": "10.0.0.0/8"}]}},
        EC2,
        False,
    ),
    # $or, at the top and nested.
    (
        "or-second-branch",
        {
            "$or": [
                {"detail": {"c-count": [{"numeric": [">", 10]}]}},
                {"detail": {"d-count": [{"numeric": ["<", 5]}]}},
            ]
        },
        EC2,
        True,
    ),
    (
        "or-no-branch",
        {"$or": [{"source": ["aws.s3"]}, {"detail": {"state": ["running"]}}]},
        EC2,
        False,
    ),
    (
        "or-nested-with-and",
        {
            "source": ["aws.ec2"],
            "detail": {
                "$or": [{"state": ["running"]}, {"location": [{"prefix": "New"}]}]
            },
        },
        EC2,
        True,
    ),
    (
        "or-nested-and-fails",
        {
            "source": ["aws.s3"],
            "detail": {"$or": [{"state": ["terminated"]}, {"c-count": [5]}]},
        },
        EC2,
        False,
    ),
    ("mixed-conditions", {"detail": {"state": ["x", {"prefix": "term"}]}}, EC2, True),
    # $or is flattened into the rule before array consistency applies, so a
    # field under the same array in an alternative must match the same
    # element as the rule's other fields under it (event-ruler README).
    (
        "or-alternative-shares-an-array-element",
        {
            "team": {"name": ["bob"]},
            "$or": [{"team": {"role": ["engineer"]}}, {"x": ["y"]}],
        },
        TEAM,
        True,
    ),
    (
        "or-alternative-cannot-use-another-array-element",
        {
            "team": {"name": ["bob"]},
            "$or": [{"team": {"role": ["manager"]}}, {"x": ["y"]}],
        },
        TEAM,
        False,
    ),
    (
        "two-or-alternatives-under-one-array-element",
        {
            "$or": [{"team": {"name": ["alice"]}}, {"x": ["y"]}],
            "team": {"$or": [{"role": ["engineer"]}, {"x": ["y"]}]},
        },
        TEAM,
        False,
    ),
]


def rule_set(pattern: dict) -> RuleSet:
    return RuleSet.from_document(
        {
            "rules": [
                {"name": "r", "pattern": pattern, "targets": [{"connector": "c"}]},
            ]
        }
    )


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_pattern_matches_as_eventbridge_does(pattern, event, expected):
    rules = rule_set(pattern)

    indexed = rules.match(event) == ["r"]
    direct = rules.rules[0].matches(event)

    assert (indexed, direct) == (expected, expected)


def test_disabled_rules_never_match():
    rules = RuleSet.from_document(
        {
            "rules": [
                {
                    "name": "off",
                    "enabled": False,
                    "pattern": {"source": ["aws.ec2"]},
                    "targets": [{"connector": "c"}],
                },
                {
                    "name": "on",
                    "pattern": {"source": ["aws.ec2"]},
                    "targets": [{"connector": "c"}],
                },
            ]
        }
    )

    assert rules.match(EC2) == ["on"]
