"""Rules documents: every problem at once, refusals, and the public API."""

import random

import pytest

from router.rules import Problem, RulesError, RuleSet, validate_document

pytestmark = pytest.mark.unit

TARGET = {"connector": "webhook", "params": {"url": "https://crm.example.com/h"}}


def doc(*rules: dict) -> dict:
    return {"rules": list(rules)}


def rule(name: str, pattern: dict, *targets: dict, **extra) -> dict:
    return {
        "name": name,
        "pattern": pattern,
        "targets": list(targets or [TARGET]),
        **extra,
    }


def codes(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in problems]


def test_valid_document_has_no_problems():
    document = doc(
        rule("a", {"type": ["order.created"], "total": [{"numeric": [">", 100]}]})
    )

    assert validate_document(document) == []


def test_every_problem_is_reported_at_once_with_its_path():
    document = doc(
        rule("ok", {"type": ["x"]}),
        rule("bad", {"total": [{"numeric": [">", "100"]}], "kind": "x"}),
        {"name": "", "pattern": {"a": [{"wildcard": "a**b"}]}, "targets": []},
        rule("ok", {"type": ["y"]}),
        {"name": "typo", "patern": {}, "targets": [{"params": []}]},
    )

    problems = validate_document(document)

    assert codes(problems) == [
        ("numeric-invalid", "$.rules[1].pattern.total[0].numeric"),
        ("value-not-array", "$.rules[1].pattern.kind"),
        ("rule-name-missing", "$.rules[2].name"),
        ("wildcard-invalid", "$.rules[2].pattern.a[0].wildcard"),
        ("targets-invalid", "$.rules[2].targets"),
        ("rule-name-duplicate", "$.rules[3].name"),
        ("rule-field-unknown", "$.rules[4].patern"),
        ("pattern-missing", "$.rules[4].pattern"),
        ("target-connector-missing", "$.rules[4].targets[0].connector"),
        ("target-params-not-object", "$.rules[4].targets[0].params"),
    ]
    assert problems[0].rule == "bad"
    assert problems[2].rule is None
    assert "100" in problems[0].message or "numeric" in problems[0].message


def test_paths_quote_keys_that_are_not_identifiers():
    problems = validate_document(doc(rule("a", {"detail-type": "x"})))

    assert codes(problems) == [("value-not-array", "$.rules[0].pattern['detail-type']")]


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        ({}, "pattern-empty"),
        ([], "pattern-not-object"),
        ({"a": []}, "array-empty"),
        ({"a": [[1]]}, "value-nested-array"),
        ({"a": [{"prefix": 1}]}, "operator-bad-value"),
        ({"a": [{"prefix": "x", "suffix": "y"}]}, "operator-invalid"),
        ({"a": [{"contains": "x"}]}, "operator-unknown"),
        ({"a": [{"numeric": [">", 5, "<", 1]}]}, "numeric-invalid"),
        ({"a": [{"numeric": ["!", 5]}]}, "numeric-invalid"),
        ({"a": [{"cidr": "10.0.0.0/33"}]}, "cidr-invalid"),
        ({"a": [{"exists": "yes"}]}, "exists-invalid"),
        ({"a": [{"anything-but": ["x", 1]}]}, "anything-but-invalid"),
        ({"a": [{"anything-but": {"numeric": [">", 1]}}]}, "anything-but-invalid"),
        ({"a": [{"anything-but": {"prefix": ["x"]}}]}, "anything-but-invalid"),
        ({"a": [{"wildcard": "a\\b"}]}, "wildcard-invalid"),
        ({"a": [{"wildcard": "*a*b*c*d*e*f*"}]}, "wildcard-too-complex"),
        ({"$or": [{"a": ["x"]}]}, "or-invalid"),
    ],
)
def test_malformed_patterns_are_refused_with_a_stable_code(pattern, code):
    problems = validate_document(doc(rule("r", pattern)))

    assert [p.code for p in problems] == [code]
    assert problems[0].path.startswith("$.rules[0].pattern")


def test_or_expansion_beyond_the_cap_is_refused():
    branch = {"$or": [{f"f{i}": ["x"]} for i in range(4)]}
    pattern = {"a": branch, "b": branch, "c": branch, "d": branch}  # 4**4 = 256

    problems = validate_document(doc(rule("r", pattern)))

    assert [p.code for p in problems] == ["pattern-too-complex"]


def test_too_many_values_are_refused():
    pattern = {"a": [str(i) for i in range(600)]}

    assert [p.code for p in validate_document(doc(rule("r", pattern)))] == [
        "pattern-too-complex"
    ]


def test_unknown_connectors_are_problems_only_when_connectors_are_given():
    document = doc(rule("r", {"a": ["x"]}, {"connector": "ftp"}))

    assert validate_document(document) == []
    assert codes(validate_document(document, connectors=["webhook"])) == [
        ("target-connector-unknown", "$.rules[0].targets[0].connector")
    ]


@pytest.mark.parametrize("document", [None, [], {"rules": {}}, {"rule": []}])
def test_a_document_that_is_not_a_rules_object_is_one_problem(document):
    assert len(validate_document(document)) == 1


def test_from_document_raises_with_every_problem():
    with pytest.raises(RulesError) as caught:
        RuleSet.from_document(
            doc(rule("a", {"x": 1}), rule("b", {"y": 2})), version="v7"
        )

    assert [p.code for p in caught.value.problems] == ["value-not-array"] * 2
    assert "v7" in str(caught.value)


def test_match_returns_enabled_rules_in_document_order():
    rules = RuleSet.from_document(
        doc(
            rule("z-last", {"type": [{"prefix": "Pu"}]}),
            rule("off", {"type": ["PushEvent"]}, enabled=False),
            rule("a-first", {"type": ["PushEvent"]}),
            rule("never", {"type": ["Nope"]}),
        )
    )

    assert rules.match({"type": "PushEvent"}) == ["z-last", "a-first"]


def test_targets_for_names_each_target_once_with_the_first_rule():
    crm = {"connector": "webhook", "params": {"url": "https://crm.example.com/h"}}
    table = {"connector": "dynamodb", "params": {"table": "t"}}
    rules = RuleSet.from_document(
        doc(
            rule("first", {"type": ["PushEvent"]}, crm),
            rule("second", {"type": [{"prefix": "Push"}]}, table, dict(crm)),
        )
    )

    assert rules.targets_for({"type": "PushEvent"}) == [
        ("first", crm),
        ("second", table),
    ]


OPERATORS = [
    lambda e: {"type": [e["type"]]},
    lambda e: {"actor": {"login": [{"prefix": e["actor"]["login"][:7]}]}},
    lambda e: {"repo": {"name": [{"suffix": e["repo"]["name"][-4:]}]}},
    lambda e: {"type": [{"equals-ignore-case": e["type"].upper()}]},
    lambda e: {"repo": {"name": [{"wildcard": "*" + e["repo"]["name"][-3:]}]}},
    lambda e: {"payload": {"size": [{"numeric": [">=", 1]}]}},
    lambda e: {"type": [{"anything-but": e["type"]}], "public": [True]},
    lambda e: {"org": {"login": [{"exists": False}]}, "type": [e["type"]]},
    lambda e: {"$or": [{"type": [e["type"]]}, {"actor": {"id": [e["actor"]["id"]]}}]},
]


def test_the_index_finds_exactly_what_testing_every_rule_finds(github_events):
    chooser = random.Random(7)
    rules = RuleSet.from_document(
        doc(
            *(
                rule(
                    f"r{i}",
                    OPERATORS[i % len(OPERATORS)](chooser.choice(github_events)),
                )
                for i in range(180)
            )
        )
    )

    for event in github_events[::4]:
        expected = [r.name for r in rules.rules if r.matches(event)]
        assert rules.match(event) == expected


@pytest.mark.parametrize("event", [[], "text", None, 5])
def test_an_event_that_is_not_an_object_matches_nothing(event):
    rules = RuleSet.from_document(doc(rule("any", {"a": [{"exists": False}]})))

    assert rules.match(event) == []
    assert rules.match({}) == ["any"]
