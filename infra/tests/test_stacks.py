"""The change-set deployer refuses to replace an event source mapping."""

from typing import Any

import pytest

from switchyard_infra.errors import DeployError
from switchyard_infra.stacks import Change, StackDeployer, dangerous_changes

pytestmark = pytest.mark.unit

TEMPLATE = "Parameters:\n  Stage:\n    Type: String\nResources: {}\n"


class FakeCloudFormation:
    """Answers like CloudFormation for one existing stack and one change set."""

    def __init__(self, changes: list[dict[str, Any]]) -> None:
        self.changes = changes
        self.calls: list[str] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        self.calls.append("describe_stacks")
        return {
            "Stacks": [
                {
                    "StackName": StackName,
                    "StackStatus": "UPDATE_COMPLETE",
                    "Parameters": [{"ParameterKey": "Stage", "ParameterValue": "dev"}],
                    "Outputs": [{"OutputKey": "FunctionName", "OutputValue": "f"}],
                }
            ]
        }

    def create_change_set(self, **args: Any) -> None:
        self.calls.append(f"create_change_set:{args['ChangeSetType']}")
        self.parameters = args["Parameters"]

    def describe_change_set(self, **args: Any) -> dict[str, Any]:
        return {"Status": "CREATE_COMPLETE", "Changes": self.changes}

    def execute_change_set(self, **args: Any) -> None:
        self.calls.append("execute_change_set")

    def delete_change_set(self, **args: Any) -> None:
        self.calls.append("delete_change_set")


def _change(action: str, kind: str, replacement: str = "False") -> dict[str, Any]:
    return {
        "ResourceChange": {
            "Action": action,
            "LogicalResourceId": "RouterEventSourceMapping",
            "ResourceType": kind,
            "Replacement": replacement,
        }
    }


def test_replacing_a_mapping_is_refused_and_the_change_set_deleted():
    cfn = FakeCloudFormation(
        [_change("Modify", "AWS::Lambda::EventSourceMapping", "True")]
    )
    deployer = StackDeployer(cfn, report=lambda _: None, poll_seconds=0)

    with pytest.raises(DeployError, match="RouterEventSourceMapping"):
        deployer.deploy("switchyard-dev-router", TEMPLATE, {"Stage": "dev"})

    assert "execute_change_set" not in cfn.calls
    assert "delete_change_set" in cfn.calls


def test_a_code_update_executes_and_keeps_unset_parameters():
    cfn = FakeCloudFormation([_change("Modify", "AWS::Lambda::Function")])
    lines: list[str] = []
    deployer = StackDeployer(cfn, report=lines.append, poll_seconds=0)

    outputs = deployer.deploy("switchyard-dev-router", TEMPLATE, {})

    assert "create_change_set:UPDATE" in cfn.calls
    assert "execute_change_set" in cfn.calls
    assert cfn.parameters == [{"ParameterKey": "Stage", "UsePreviousValue": True}]
    assert outputs == {"FunctionName": "f"}
    assert any("RouterEventSourceMapping" in line for line in lines)


def test_replacing_a_mapping_may_be_allowed_explicitly():
    cfn = FakeCloudFormation([_change("Remove", "AWS::Lambda::EventSourceMapping")])
    deployer = StackDeployer(cfn, report=lambda _: None, poll_seconds=0)

    deployer.deploy("switchyard-dev-router", TEMPLATE, {}, allow_replacing=True)

    assert "execute_change_set" in cfn.calls


@pytest.mark.parametrize(
    ("change", "dangerous"),
    [
        (Change("Modify", "M", "AWS::Lambda::EventSourceMapping", "True"), True),
        (Change("Modify", "M", "AWS::Lambda::EventSourceMapping", "Conditional"), True),
        (Change("Remove", "M", "AWS::Lambda::EventSourceMapping", ""), True),
        (Change("Modify", "M", "AWS::Lambda::EventSourceMapping", "False"), False),
        (Change("Add", "M", "AWS::Lambda::EventSourceMapping", ""), False),
        (Change("Modify", "F", "AWS::Lambda::Function", "True"), False),
    ],
)
def test_dangerous_changes_are_mapping_replacements_and_removals(
    change: Change, dangerous: bool
):
    assert (dangerous_changes([change]) == [change]) is dangerous
