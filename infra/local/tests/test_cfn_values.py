"""Intrinsic functions resolve to plain values, or fail naming what is missing."""

import pytest

from switchyard_local.cfn_values import Resolver, UnresolvedError, references

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
    }
    assert resolver.resolve(doc) == {
        "Name": "switchyard-dev-arn:aws:sqs:us-east-1:1:q-${Literal}",
        "Url": "https://q/url",
        "Imported": "exported",
        "Joined": "a/dev",
        "Second": "b",
        "Chosen": "small",
        "Sub2": "us-east-1-dev",
    }


@pytest.mark.parametrize(
    "fragment",
    [{"Ref": "Nope"}, {"Fn::GetAtt": ["Queue", "Url"]}, {"Fn::ImportValue": "zz"}],
)
def test_unknown_names_raise(resolver, fragment):
    with pytest.raises(UnresolvedError):
        resolver.resolve(fragment)


def test_references_finds_every_named_dependency():
    doc = {
        "A": {"Ref": "Pool"},
        "B": {"Fn::GetAtt": "Client.Secret"},
        "C": {"Fn::Sub": "${Stage}-${Topic.Arn}"},
    }
    assert references(doc) == {"Pool", "Client", "Stage", "Topic"}
