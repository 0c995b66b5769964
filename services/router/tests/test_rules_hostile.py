"""Hostile rules documents: every problem is reported, nothing raises.

Given any JSON value as a rules document, when it is validated, then the
answer is a list of problems with stable codes and paths, never an exception.
"""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.problems import PROBLEM_CODES
from router.rules import RuleSet, validate_document

pytestmark = pytest.mark.unit

TARGET = {"connector": "webhook"}


def document(*patterns: object) -> dict:
    return {
        "rules": [
            {"name": f"r{n}", "pattern": p, "targets": [TARGET]}
            for n, p in enumerate(patterns)
        ]
    }


def codes(doc: object, **kwargs: object) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in validate_document(doc, **kwargs)]


def test_a_number_too_large_for_a_float_is_a_problem_not_a_crash():
    doc = document({"x": [10**400]}, {"y": [{"numeric": [">", 10**400]}]})

    assert codes(doc) == [
        ("number-out-of-range", "$.rules[0].pattern.x[0]"),
        ("number-out-of-range", "$.rules[1].pattern.y[0].numeric"),
    ]


def test_nan_and_infinity_are_refused_as_pattern_numbers():
    doc = document({"x": [float("nan")]}, {"y": [{"numeric": ["<", float("inf")]}]})

    assert [code for code, _ in codes(doc)] == ["number-out-of-range"] * 2


@pytest.mark.parametrize("argument", [5, True, None, ["10.0.0.0/8"], {}])
def test_cidr_needs_a_string(argument):
    doc = document({"ip": [{"cidr": argument}]})

    assert codes(doc) == [("cidr-invalid", "$.rules[0].pattern.ip[0].cidr")]


def test_deeply_nested_or_is_refused_as_too_deep_without_recursion_error():
    pattern: dict = {"x": ["a"]}
    for _ in range(2000):
        pattern = {"$or": [pattern, {"y": ["b"]}]}

    found = codes(document(pattern))

    assert found and {code for code, _ in found} == {"pattern-too-deep"}


def test_a_duplicate_name_is_reported_even_when_the_rule_has_other_problems():
    doc = {
        "rules": [
            {"name": "same", "pattern": {"x": ["a"]}, "targets": [TARGET]},
            {"name": "same", "pattern": {"x": "a"}, "targets": [TARGET]},
        ]
    }

    assert codes(doc) == [
        ("value-not-array", "$.rules[1].pattern.x"),
        ("rule-name-duplicate", "$.rules[1].name"),
    ]


def test_a_connector_that_is_not_a_string_is_reported_once_without_crashing():
    doc = {
        "rules": [
            {"name": "r", "pattern": {"x": ["a"]}, "targets": [{"connector": {}}]}
        ]
    }

    assert codes(doc, connectors=["webhook"]) == [
        ("target-connector-missing", "$.rules[0].targets[0].connector")
    ]


def test_an_event_number_too_large_for_a_float_matches_no_value_and_no_crash():
    rules = RuleSet.from_document(
        document({"x": [5]}, {"x": [{"numeric": [">", 5]}]}, {"x": [{"exists": True}]})
    )

    assert rules.match({"x": 10**400}) == ["r1", "r2"]
    assert rules.match({"x": [10**400, 5]}) == ["r0", "r1", "r2"]


# Any JSON value, and documents shaped like rules with arbitrary insides.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["*", "a**b", "\\", "10.0.0.0/8", "::1/128", "$or"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "rules",
                    "name",
                    "pattern",
                    "targets",
                    "connector",
                    "params",
                    "enabled",
                    "$or",
                    "prefix",
                    "suffix",
                    "anything-but",
                    "numeric",
                    "exists",
                    "cidr",
                    "wildcard",
                    "equals-ignore-case",
                    "x",
                    "",
                ]
            )
            | st.text(max_size=4),
            inner,
            max_size=4,
        )
    ),
    max_leaves=30,
)
rule_like = st.fixed_dictionaries(
    {"name": st.text(max_size=3), "pattern": json_values, "targets": json_values}
)
documents = json_values | st.fixed_dictionaries(
    {"rules": st.lists(rule_like | json_values, max_size=4)}
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_json_document_gives_a_list_of_problems_and_never_raises(doc):
    problems = validate_document(doc, connectors=["webhook"])

    assert isinstance(problems, list)
    for problem in problems:
        assert problem.code in PROBLEM_CODES and problem.path.startswith("$")
        json.dumps(problem.to_dict())
    if not validate_document(doc):
        # A document without problems compiles and can match anything.
        RuleSet.from_document(doc).match({"x": "a", "detail": [1, None, {"y": 2}]})


def test_target_params_that_cannot_be_serialized_are_a_problem():
    doc = {
        "rules": [
            {
                "name": "r",
                "pattern": {"x": ["a"]},
                "targets": [{"connector": "webhook", "params": {"k": "\ud800"}}],
            }
        ]
    }

    assert codes(doc) == [("target-params-invalid", "$.rules[0].targets[0].params")]


@pytest.mark.parametrize(
    "excluded",
    [
        [f"v{n}" for n in range(600)],
        list(range(600)),
        {"equals-ignore-case": [f"v{n}" for n in range(600)]},
        {"wildcard": [f"v{n}*" for n in range(600)]},
    ],
)
def test_an_anything_but_with_too_many_values_is_too_complex(excluded):
    doc = document({"x": [{"anything-but": excluded}]})

    assert [code for code, _ in codes(doc)] == ["pattern-too-complex"]


def test_every_problem_code_is_listed_in_the_readme():
    readme = (Path(__file__).parents[1] / "README.md").read_text()

    assert {code for code in PROBLEM_CODES if f"`{code}`" not in readme} == set()
