"""Intrinsic functions resolve to plain values, or fail naming what is missing."""

import pytest

from switchyard_infra.errors import TemplateError
from switchyard_infra.intrinsics import (
    NO_VALUE,
    Resolver,
    UnresolvedError,
    pseudo_parameters,
    references,
    substitute_known,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def resolver():
    return Resolver(
        {"Stage": "dev", "Queue": "https://q/url", "AWS::Region": "us-east-1"},
        {("Queue", "Arn"): "arn:aws:sqs:us-east-1:1:q"},
        {"switchyard-dev-X": "exported"},
        {"IsProd": False},
    )


def test_sub_ref_getatt_import_join_select_and_if(resolver):
    doc = {
        "Name": {"Fn::Sub": "switchyard-${Stage}-${Queue.Arn}-${!Literal}"},
        "Url": {"Ref": "Queue"},
        "Imported": {"Fn::ImportValue": {"Fn::Sub": "switchyard-${Stage}-X"}},
        "Joined": {"Fn::Join": ["/", ["a", {"Ref": "Stage"}]]},
        "Second": {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]},
        "Chosen": {"Fn::If": ["IsProd", "big", "small"]},
        "Dropped": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]},
        "Sub2": {"Fn::Sub": ["${A}-${Stage}", {"A": {"Ref": "AWS::Region"}}]},
        "Att": {"Fn::GetAtt": "Queue.Arn"},
    }
    assert resolver.resolve(doc) == {
        "Name": "switchyard-dev-arn:aws:sqs:us-east-1:1:q-${Literal}",
        "Url": "https://q/url",
        "Imported": "exported",
        "Joined": "a/dev",
        "Second": "b",
        "Chosen": "small",
        "Sub2": "us-east-1-dev",
        "Att": "arn:aws:sqs:us-east-1:1:q",
    }


@pytest.mark.parametrize(
    "fragment",
    [
        {"Ref": "Nope"},
        {"Fn::GetAtt": ["Queue", "Url"]},
        {"Fn::ImportValue": "zz"},
        {"Fn::If": ["NoSuchCondition", 1, 2]},
        {"Fn::FindInMap": ["M", "a", "b"]},
        {"Fn::Base64": "text"},
    ],
)
def test_unknown_names_and_functions_raise(resolver, fragment):
    with pytest.raises(UnresolvedError):
        resolver.resolve(fragment)


def test_unresolved_error_is_the_infra_template_error():
    assert issubclass(UnresolvedError, TemplateError)


def test_condition_expressions_are_evaluated_on_use_in_any_order():
    conditions = {
        "IsProdOrStaging": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "St"}]},
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "St": {"Fn::And": [{"Fn::Not": [{"Condition": "IsProd"}]}, True]},
        "Given": True,
    }
    resolver = Resolver({"Stage": "prod"}, conditions=conditions)

    assert resolver.condition("IsProd") is True
    assert resolver.condition("St") is False
    assert resolver.condition("IsProdOrStaging") is True
    assert resolver.condition("Given") is True


def test_equals_compares_values_as_strings():
    resolver = Resolver({"Count": "1"})

    assert resolver.resolve({"Fn::Equals": [{"Ref": "Count"}, 1]}) is True


def test_no_value_is_dropped_from_maps_and_lists():
    resolver = Resolver({}, conditions={"On": False})
    no_value = {"Ref": "AWS::NoValue"}

    value = resolver.resolve({"a": ["x", no_value], "b": no_value})

    assert value == {"a": ["x"]}
    assert resolver.ref("AWS::NoValue") is NO_VALUE


def test_find_in_map_reads_the_mappings():
    resolver = Resolver({"Stage": "dev"}, mappings={"Sizes": {"dev": {"Memory": 128}}})

    value = resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]})

    assert value == 128


def test_callables_answer_refs_attributes_and_exports():
    resolver = Resolver(
        lambda name: f"ref-{name}",
        lambda logical_id, attribute: f"{logical_id}/{attribute}",
        lambda name: f"export-{name}",
    )

    value = (
        resolver.resolve({"Fn::Sub": "${A}-${B.Arn}-${AWS::Region}"}),
        resolver.resolve({"Fn::ImportValue": "E"}),
    )

    assert value == ("ref-A-B/Arn-ref-AWS::Region", "export-E")


def test_a_callers_own_error_passes_through():
    class Missing(Exception):
        pass

    def exports(name: str) -> str:
        raise Missing(name)

    with pytest.raises(Missing):
        Resolver({}, exports=exports).resolve({"Fn::ImportValue": "x"})


def test_pseudo_parameters_name_the_stack():
    values = pseudo_parameters("eu-west-1", "111122223333", "s")

    assert values["AWS::StackName"] == "s"
    assert values["AWS::StackId"] == (
        "arn:aws:cloudformation:eu-west-1:111122223333:stack/s/local"
    )
    assert pseudo_parameters("r", "a", "s", "real-id")["AWS::StackId"] == "real-id"


def test_references_finds_every_named_dependency():
    doc = {
        "A": {"Ref": "Pool"},
        "B": {"Fn::GetAtt": "Client.Secret"},
        "C": {"Fn::Sub": "${Stage}-${Topic.Arn}"},
    }
    assert references(doc) == {"Pool", "Client", "Stage", "Topic"}


def test_substitute_known_replaces_only_what_it_knows():
    doc = {
        "Pool": {"Ref": "Pool"},
        "Other": {"Ref": "Other"},
        "Arn": {"Fn::GetAtt": ["Pool", "Arn"]},
        "Text": {"Fn::Sub": "${Pool}/${Pool.Arn}/${Stage}"},
    }

    value = substitute_known(doc, {"Pool": "p1"}, {("Pool", "Arn"): "arn:p1"})

    assert value == {
        "Pool": "p1",
        "Other": {"Ref": "Other"},
        "Arn": "arn:p1",
        "Text": {"Fn::Sub": "p1/arn:p1/${Stage}"},
    }
