"""The index finds exactly the rules that testing each rule directly finds."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.rules import RuleSet

pytestmark = pytest.mark.unit

KEYS = ["a", "b", "c"]
TEXTS = ["", "x", "xy", "yx", "X", "xYz", "10.0.0.1"]
scalars = st.one_of(
    st.sampled_from(TEXTS),
    st.integers(-2, 3),
    st.sampled_from([0.5, 2.0]),
    st.none(),
    st.booleans(),
)
events = st.recursive(
    st.dictionaries(st.sampled_from(KEYS), scalars, max_size=3),
    lambda inner: st.dictionaries(
        st.sampled_from(KEYS),
        st.one_of(scalars, inner, st.lists(st.one_of(scalars, inner), max_size=3)),
        max_size=3,
    ),
    max_leaves=12,
)
texts = st.sampled_from(TEXTS)
conditions = st.one_of(
    scalars,
    texts.map(lambda t: {"prefix": t}),
    texts.map(lambda t: {"suffix": t}),
    texts.map(lambda t: {"equals-ignore-case": t}),
    texts.map(lambda t: {"prefix": {"equals-ignore-case": t}}),
    texts.map(lambda t: {"suffix": {"equals-ignore-case": t}}),
    st.sampled_from(["x*", "*y", "x*z", "*", "*x*"]).map(lambda w: {"wildcard": w}),
    texts.map(lambda t: {"anything-but": t}),
    st.integers(-1, 2).map(lambda n: {"numeric": [">", n]}),
    st.booleans().map(lambda b: {"exists": b}),
    st.just({"cidr": "10.0.0.0/8"}),
)
leaves = st.lists(conditions, min_size=1, max_size=2)
patterns = st.recursive(
    st.dictionaries(st.sampled_from(KEYS), leaves, min_size=1, max_size=2),
    lambda inner: st.one_of(
        st.dictionaries(
            st.sampled_from(KEYS), st.one_of(leaves, inner), min_size=1, max_size=2
        ),
        st.lists(inner, min_size=2, max_size=2).map(lambda alts: {"$or": alts}),
    ),
    max_leaves=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patterns, min_size=1, max_size=5), st.lists(events, max_size=4))
def test_indexed_matching_equals_testing_every_rule(pattern_list, event_list):
    rules = RuleSet.from_document(
        {
            "rules": [
                {"name": f"r{n}", "pattern": p, "targets": [{"connector": "c"}]}
                for n, p in enumerate(pattern_list)
            ]
        }
    )

    for event in event_list:
        expected = [rule.name for rule in rules.rules if rule.matches(event)]
        assert rules.match(event) == expected
