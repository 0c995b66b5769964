"""Property tests: any JSON a client can send is either stored exactly or refused."""

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from user_api import jsontext
from user_api.attributes import _plainly_valid, attribute_problems
from user_api.marshal import from_item, to_item

pytestmark = pytest.mark.unit

numbers = st.one_of(
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=20,
)
documents = st.dictionaries(
    st.one_of(st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,10}", fullmatch=True), st.text()),
    json_values,
    max_size=6,
)


def as_json_text(document) -> str:
    return json.dumps(document, default=str)


@settings(max_examples=100, deadline=None)
@given(documents)
def test_accepted_documents_survive_dynamodb_and_json_exactly(document) -> None:
    text = as_json_text(document)
    parsed = jsontext.loads(text)

    if attribute_problems(parsed, removals_allowed=False):
        return

    stored = from_item(to_item(parsed))
    assert stored == parsed
    written = jsontext.dumps(stored)
    assert jsontext.loads(written) == parsed
    assert jsontext.dumps(jsontext.loads(written)) == written


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_any_text_either_parses_and_round_trips_or_is_refused(text) -> None:
    try:
        value = jsontext.loads(text)
    except jsontext.JsonTextError as exc:
        assert str(exc)
        return

    assert jsontext.loads(jsontext.dumps(value)) == value


@settings(max_examples=100, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_number_text_is_the_same_number(number: Decimal) -> None:
    assert Decimal(jsontext.number_text(number)) == number


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=10),
    st.decimals(),
    st.sampled_from(["\ud800", Decimal("1E+126"), Decimal("1E-131"), 10**40]),
)


@settings(max_examples=200, deadline=None)
@given(scalars)
def test_the_quick_check_never_passes_a_value_the_full_check_refuses(value) -> None:
    document = {"a": [value], "m": {"k": value}}

    problems = attribute_problems(document, removals_allowed=False)

    if _plainly_valid(value):
        assert problems == []
    else:
        assert {problem.field for problem in problems} <= {"/a/0", "/m/k"}
