"""The shared template deploys into moto with every declared setting in force.

moto's CloudFormation skips Cognito and ignores versioning and TTL; the
provisioner applies them from the template, and these tests read the result
back through the service APIs, not through the provisioner.
"""

import json
from pathlib import Path

import boto3
import jwt
import pytest

from switchyard_infra.templates import load_template
from switchyard_local.provision import ProvisionError, deploy_stack

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO / "infra" / "templates" / "shared.yaml"


@pytest.fixture
def shared(aws_server):
    return deploy_stack(
        SHARED, "switchyard-test-shared", {"Stage": "test"}, endpoint_url=aws_server
    )


def test_every_declared_output_is_present(shared):
    declared = set(load_template(SHARED)["Outputs"])
    assert declared == set(shared.outputs)
    assert shared.outputs["UsersTableName"] == "switchyard-test-users"


def test_rules_bucket_is_versioned(shared, aws_server):
    s3 = boto3.client("s3", endpoint_url=aws_server)
    status = s3.get_bucket_versioning(Bucket=shared.outputs["RulesBucketName"])
    assert status["Status"] == "Enabled"


def test_failed_events_table_has_the_console_indexes(shared, aws_server):
    ddb = boto3.client("dynamodb", endpoint_url=aws_server)
    table = ddb.describe_table(TableName=shared.outputs["FailedEventsTableName"])
    indexes = {
        i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]]
        for i in table["Table"]["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "status-index": ["status", "last_failed_at"],
        "target-index": ["target_name", "last_failed_at"],
        "error-type-index": ["error_type", "last_failed_at"],
    }


def test_idempotency_table_expires_items_by_ttl(shared, aws_server):
    ddb = boto3.client("dynamodb", endpoint_url=aws_server)
    ttl = ddb.describe_time_to_live(TableName=shared.outputs["IdempotencyTableName"])
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expiration",
    }


def test_dead_letter_queue_redrives_to_the_second_level_queue(shared, aws_server):
    sqs = boto3.client("sqs", endpoint_url=aws_server)
    attrs = sqs.get_queue_attributes(
        QueueUrl=shared.outputs["DeadLetterQueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    policy = json.loads(attrs["RedrivePolicy"])
    assert policy["deadLetterTargetArn"] == shared.outputs["UnprocessableQueueArn"]
    assert int(policy["maxReceiveCount"]) == 5


def test_events_stream_and_alarm_topic_exist(shared, aws_server):
    kinesis = boto3.client("kinesis", endpoint_url=aws_server)
    summary = kinesis.describe_stream_summary(
        StreamName=shared.outputs["EventsStreamName"]
    )["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 1
    assert summary["RetentionPeriodHours"] == 168
    sns = boto3.client("sns", endpoint_url=aws_server)
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert shared.outputs["AlarmTopicArn"] in topics


def test_user_pool_and_web_client_follow_the_template(shared, aws_server):
    idp = boto3.client("cognito-idp", endpoint_url=aws_server)
    pool = idp.describe_user_pool(UserPoolId=shared.outputs["UserPoolId"])["UserPool"]
    assert pool["Name"] == "switchyard-test-users"
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    client = idp.describe_user_pool_client(
        UserPoolId=shared.outputs["UserPoolId"],
        ClientId=shared.outputs["UserPoolClientId"],
    )["UserPoolClient"]
    assert client["ClientName"] == "switchyard-test-web"
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert "ClientSecret" not in client
    groups = idp.list_groups(UserPoolId=shared.outputs["UserPoolId"])["Groups"]
    assert [g["GroupName"] for g in groups] == ["operators"]


def test_exports_carry_the_cognito_ids_for_other_stacks(shared, aws_server):
    cfn = boto3.client("cloudformation", endpoint_url=aws_server)
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports["switchyard-test-UserPoolId"] == shared.outputs["UserPoolId"]


def test_unknown_parameters_are_refused_before_anything_is_created(aws_server):
    with pytest.raises(ProvisionError, match="unknown parameters"):
        deploy_stack(SHARED, "s", {"Stag": "x"}, endpoint_url=aws_server)
    ddb = boto3.client("dynamodb", endpoint_url=aws_server)
    assert ddb.list_tables()["TableNames"] == []


def test_web_client_id_tokens_carry_the_verified_email(shared, aws_server):
    idp = boto3.client("cognito-idp", endpoint_url=aws_server)
    pool, client = shared.outputs["UserPoolId"], shared.outputs["UserPoolClientId"]
    idp.sign_up(
        ClientId=client,
        Username="ada@example.com",
        Password="Passw0rd-x1",
        UserAttributes=[{"Name": "email", "Value": "ada@example.com"}],
    )
    idp.admin_confirm_sign_up(UserPoolId=pool, Username="ada@example.com")
    idp.admin_update_user_attributes(
        UserPoolId=pool,
        Username="ada@example.com",
        UserAttributes=[{"Name": "email_verified", "Value": "true"}],
    )

    tokens = idp.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ada@example.com", "PASSWORD": "Passw0rd-x1"},
    )["AuthenticationResult"]

    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert claims["email"] == "ada@example.com"
    assert claims["email_verified"] in ("true", True)
