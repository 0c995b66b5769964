"""The deploy script deploys every service into the moto server, as declared.

Each function's configuration is read back through the Lambda API and
compared with its template, resolved against the shared stack's exports.
"""

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from switchyard_infra.deploy import Context, deploy_service, main
from switchyard_infra.intrinsics import Resolver
from switchyard_infra.services import SERVICES
from switchyard_infra.templates import load_template
from switchyard_local.moto_server import MotoServer, aws_environment

pytestmark = pytest.mark.functional

STAGE = "dev"
CHECKED_FUNCTION_PROPERTIES = (
    "FunctionName",
    "Handler",
    "Runtime",
    "Timeout",
    "MemorySize",
    "Environment",
)


def _exports() -> dict[str, str]:
    cfn = boto3.client("cloudformation")
    return {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}


def _resolver(template: dict[str, Any], stage_stack: str) -> Resolver:
    """Values as the stack got them: defaults, Stage, exports, resources."""
    cfn = boto3.client("cloudformation")
    refs: dict[str, Any] = {
        name: spec.get("Default") for name, spec in template["Parameters"].items()
    }
    refs.update({"Stage": STAGE, "AWS::Region": "us-east-1"})
    refs["AWS::AccountId"] = "123456789012"
    refs["AWS::Partition"] = "aws"
    for resource in cfn.list_stack_resources(StackName=stage_stack)[
        "StackResourceSummaries"
    ]:
        if resource.get("LogicalResourceId"):
            refs[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    exports = _exports()
    return Resolver(refs, None, exports.__getitem__, template.get("Conditions", {}))


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        lid: spec["Properties"]
        for lid, spec in template["Resources"].items()
        if spec["Type"] == kind
    }


@pytest.fixture(scope="module")
def deployed(moto_server: MotoServer) -> Iterator[str]:
    """shared plus every service, deployed once by the deploy script's CLI.

    Module-scoped: a deploy of the five stacks takes seconds, and the tests
    below only read, except the last two, which redeploy.
    """
    moto_server.reset()
    url = moto_server.endpoint_url
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE"):
            patch.delenv(name, raising=False)
        for name, value in aws_environment(url).items():
            patch.setenv(name, value)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")

        assert main(["shared", "--stage", STAGE, "--endpoint-url", url]) == 0
        for name in SERVICES:
            assert main([name, "--stage", STAGE, "--endpoint-url", url]) == 0, name
        yield url


def test_every_function_has_its_template_configuration(deployed: str):
    lam = boto3.client("lambda")

    for service in SERVICES.values():
        template = load_template(service.template)
        resolver = _resolver(template, service.stack_name(STAGE))
        functions = _of_type(template, "AWS::Lambda::Function")
        assert len(functions) == len(service.functions)

        for props in functions.values():
            expected = resolver.resolve(
                {key: props[key] for key in CHECKED_FUNCTION_PROPERTIES}
            )
            actual = lam.get_function_configuration(
                FunctionName=expected["FunctionName"]
            )
            assert actual["Handler"] == expected["Handler"]
            assert actual["Runtime"] == expected["Runtime"] == "python3.12"
            assert actual["Timeout"] == expected["Timeout"]
            assert actual["MemorySize"] == expected["MemorySize"]
            environment = {
                k: str(v) for k, v in actual["Environment"]["Variables"].items()
            }
            assert environment == {
                k: str(v) for k, v in expected["Environment"]["Variables"].items()
            }
            assert actual["Handler"] in {f.handler for f in service.functions}


def test_functions_read_the_shared_resources_of_their_stage(deployed: str):
    lam = boto3.client("lambda")
    exports = _exports()

    router = lam.get_function_configuration(FunctionName="switchyard-dev-router")
    env = router["Environment"]["Variables"]

    assert env["RULES_BUCKET"] == exports["switchyard-dev-RulesBucketName"]
    assert env["DEAD_LETTER_QUEUE_URL"] == exports["switchyard-dev-DeadLetterQueueUrl"]
    assert env["CONNECTOR_FUNCTIONS"].startswith('{"dynamodb": "switchyard-dev-')


def test_event_source_mappings_match_their_templates(deployed: str):
    lam = boto3.client("lambda")
    exports = _exports()

    for name, source in (
        ("router", "switchyard-dev-EventsStreamArn"),
        ("dlq-processor", "switchyard-dev-DeadLetterQueueArn"),
    ):
        service = SERVICES[name]
        template = load_template(service.template)
        resolver = _resolver(template, service.stack_name(STAGE))
        (props,) = _of_type(template, "AWS::Lambda::EventSourceMapping").values()
        expected = resolver.resolve(props)
        (mapping,) = lam.list_event_source_mappings(
            FunctionName=f"switchyard-dev-{name}"
        )["EventSourceMappings"]

        assert mapping["EventSourceArn"] == exports[source]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        for key in (
            "BatchSize",
            "MaximumBatchingWindowInSeconds",
            "StartingPosition",
            "BisectBatchOnFunctionError",
            "MaximumRetryAttempts",
            "MaximumRecordAgeInSeconds",
            "DestinationConfig",
            "ScalingConfig",
        ):
            if key in expected:
                assert str(mapping[key]) == str(expected[key]), (name, key)


def test_router_mapping_retries_bisect_and_sends_failures_to_the_dlq(deployed: str):
    lam = boto3.client("lambda")

    (mapping,) = lam.list_event_source_mappings(FunctionName="switchyard-dev-router")[
        "EventSourceMappings"
    ]

    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert (
        mapping["DestinationConfig"]["OnFailure"]["Destination"]
        == (_exports()["switchyard-dev-DeadLetterQueueArn"])
    )


def test_connectors_have_their_event_invoke_configs(deployed: str):
    lam = boto3.client("lambda")
    dead_letters = _exports()["switchyard-dev-DeadLetterQueueArn"]

    for suffix in ("connector-dynamodb", "connector-webhook"):
        config = lam.get_function_event_invoke_config(
            FunctionName=f"switchyard-dev-{suffix}"
        )

        assert config["MaximumRetryAttempts"] == 2
        assert config["MaximumEventAgeInSeconds"] == 3600
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == dead_letters
    webhook = lam.get_function_concurrency(
        FunctionName="switchyard-dev-connector-webhook"
    )
    assert webhook["ReservedConcurrentExecutions"] == 10


def test_a_new_router_version_keeps_its_event_source_mapping(
    deployed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    lam = boto3.client("lambda")
    before = lam.list_event_source_mappings(FunctionName="switchyard-dev-router")
    code_before = lam.get_function(FunctionName="switchyard-dev-router")
    artifact = tmp_path / "router-next.zip"
    with zipfile.ZipFile(artifact, "w") as archive:
        archive.writestr("router/__init__.py", "# the next version\n")

    ctx = Context(stage=STAGE, endpoint_url=deployed, poll_seconds=0.1)
    deploy_service(ctx, "router", artifact=artifact)

    after = lam.list_event_source_mappings(FunctionName="switchyard-dev-router")
    code_after = lam.get_function(FunctionName="switchyard-dev-router")
    assert [m["UUID"] for m in after["EventSourceMappings"]] == [
        m["UUID"] for m in before["EventSourceMappings"]
    ]
    assert (
        code_after["Configuration"]["CodeSha256"]
        != code_before["Configuration"]["CodeSha256"]
    )
    assert "UPDATE_COMPLETE" in capsys.readouterr().out


def test_deploying_an_unchanged_service_again_changes_nothing(
    deployed: str, capsys: pytest.CaptureFixture[str]
):
    capsys.readouterr()

    assert main(["dlq-processor", "--endpoint-url", deployed]) == 0

    out = capsys.readouterr().out
    assert "already uploaded" in out
    assert "no changes" in out


def test_the_rest_api_deploys_with_user_and_events_routes(deployed: str):
    assert main(["api", "--stage", STAGE, "--endpoint-url", deployed]) == 0

    apigw = boto3.client("apigateway")
    apis = [a for a in apigw.get_rest_apis()["items"] if STAGE in a["name"]]
    assert len(apis) == 1
    resources = apigw.get_resources(restApiId=apis[0]["id"])["items"]
    methods = {r["path"]: set(r.get("resourceMethods", {})) for r in resources}
    assert {"GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"} <= methods["/user"]
    assert {"POST", "OPTIONS"} <= methods["/events"]
