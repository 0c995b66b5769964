"""The deploy puts an event invoke config only when the function lacks it."""

import pytest
from botocore.exceptions import ClientError

from switchyard_infra.deploy import event_invoke_config_matches

pytestmark = pytest.mark.unit

WANTED = {
    "FunctionName": "switchyard-dev-connector-webhook",
    "MaximumRetryAttempts": 2,
    "MaximumEventAgeInSeconds": 3600,
    "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:r:1:dlq"}},
}


class FakeLambda:
    def __init__(self, config: dict | None) -> None:
        self.config = config

    def get_function_event_invoke_config(self, **query: str) -> dict:
        if self.config is None:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException"}},
                "GetFunctionEventInvokeConfig",
            )
        return self.config


def test_the_config_aws_returns_for_the_template_matches():
    # AWS reports the unset OnSuccess destination as an empty object.
    answer = {
        "MaximumRetryAttempts": 2,
        "MaximumEventAgeInSeconds": 3600,
        "DestinationConfig": {
            "OnSuccess": {},
            "OnFailure": {"Destination": "arn:aws:sqs:r:1:dlq"},
        },
    }

    assert event_invoke_config_matches(FakeLambda(answer), WANTED)


def test_a_missing_or_different_config_does_not_match():
    different = {
        "MaximumRetryAttempts": 0,
        "MaximumEventAgeInSeconds": 3600,
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:r:1:dlq"}},
    }

    assert not event_invoke_config_matches(FakeLambda(None), WANTED)
    assert not event_invoke_config_matches(FakeLambda(different), WANTED)
