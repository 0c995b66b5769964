"""Reading service templates as CloudFormation, without deploying them."""

from pathlib import Path

import pytest

from switchyard_local.errors import TemplateError
from switchyard_local.templates import (
    Resolver,
    function_name,
    load_template,
    read_service,
)

pytestmark = pytest.mark.unit

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
STAGE = "t"
EXPORTS = {
    f"switchyard-{STAGE}-{name}": value
    for name, value in {
        "EventsStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/ev",
        "DeadLetterQueueArn": "arn:aws:sqs:us-east-1:123456789012:dl",
        "DeadLetterQueueUrl": "http://q/dl",
        "RulesBucketName": "rules",
        "PayloadBucketName": "payloads",
        "IdempotencyTableName": "idem",
        "RulesBucketArn": "arn:aws:s3:::rules",
        "PayloadBucketArn": "arn:aws:s3:::payloads",
    }.items()
}


def test_sub_resolves_parameters_pseudo_parameters_and_variables():
    template = {"Parameters": {"Stage": {"Type": "String", "Default": "dev"}}}
    resolver = Resolver(template, {"Stage": "x"})

    value = resolver.resolve(
        {"Fn::Sub": ["${AWS::Region}-${Stage}-${Name}-${!Literal}", {"Name": "n"}]}
    )

    assert value == "us-east-1-x-n-${Literal}"


def test_import_value_of_a_missing_export_names_it():
    resolver = Resolver({}, {}, {})

    with pytest.raises(TemplateError, match="no such export"):
        resolver.resolve({"Fn::ImportValue": "nope"})


def test_conditions_choose_the_branch_and_no_value_drops_the_key():
    template = {
        "Parameters": {"P": {"Type": "String", "Default": ""}},
        "Conditions": {"Empty": {"Fn::Equals": [{"Ref": "P"}, ""]}},
    }
    resolver = Resolver(template)

    value = resolver.resolve(
        {
            "a": {"Fn::If": ["Empty", "default", {"Ref": "P"}]},
            "b": {"Fn::If": ["Empty", {"Ref": "AWS::NoValue"}, 1]},
        }
    )

    assert value == {"a": "default"}


def test_resources_named_after_the_resolver_was_made_still_resolve():
    physical: dict[str, dict[str, str]] = {}
    resolver = Resolver({}, physical=physical)
    physical["Fn"] = {"Ref": "f", "Arn": "arn:f"}

    value = resolver.resolve({"Fn::Sub": "${Fn}/${Fn.Arn}"})

    assert value == "f/arn:f"


@pytest.mark.parametrize(
    "fragment",
    [
        {"Ref": "Missing"},
        {"Fn::If": ["NoSuchCondition", 1, 2]},
        {"Fn::Base64": "x"},
        {"Ref": "AWS::NotificationARNs"},
    ],
)
def test_what_cannot_be_resolved_raises_the_local_template_error(fragment):
    with pytest.raises(TemplateError):
        Resolver({}).resolve(fragment)


def test_router_template_gives_function_environment_and_kinesis_mapping():
    template = load_template(TEMPLATES / "service-router.yaml")

    spec = read_service(
        template, {"Stage": STAGE, "ArtifactBucket": "b", "ArtifactKey": "k"}, EXPORTS
    )

    (function,) = spec.functions
    assert function.name == f"switchyard-{STAGE}-router"
    assert function.handler == "router.handler.handler"
    assert function.environment["RULES_BUCKET"] == "rules"
    assert function.timeout == 120
    (mapping,) = spec.mappings
    assert mapping.kind == "kinesis"
    assert mapping.function_name == function.name
    assert mapping.properties["StartingPosition"] == "TRIM_HORIZON"
    assert (
        mapping.properties["DestinationConfig"]["OnFailure"]["Destination"]
        == (EXPORTS[f"switchyard-{STAGE}-DeadLetterQueueArn"])
    )
    assert spec.exports[f"switchyard-{STAGE}-RouterFunctionArn"].endswith(
        f":function:switchyard-{STAGE}-router"
    )


def test_connectors_template_gives_invoke_configs_with_destinations():
    template = load_template(TEMPLATES / "service-connectors.yaml")

    spec = read_service(
        template, {"Stage": STAGE, "ArtifactBucket": "b", "ArtifactKey": "k"}, EXPORTS
    )

    configs = {c.function_name: c for c in spec.invoke_configs}
    webhook = configs[f"switchyard-{STAGE}-connector-webhook"]
    assert webhook.maximum_retry_attempts == 2
    assert webhook.on_failure == EXPORTS[f"switchyard-{STAGE}-DeadLetterQueueArn"]


@pytest.mark.parametrize(
    "given",
    [
        "f",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
        "123456789012:function:f",
    ],
)
def test_function_name_accepts_names_and_arns(given):
    assert function_name(given) == "f"
