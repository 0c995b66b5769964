"""Each Lambda's role grants exactly what its code calls, on named resources.

moto does not enforce IAM, so a missing permission only shows on real AWS.
REQUIRED lists, per execution role, every (action, resource) pair the
function's code (or its event source mapping / destination) needs, and why.
A template must grant each pair and nothing else. A second check reads the
services' sources for boto3 calls, so a new call without a grant fails here.

Resources are compared in a canonical text form: ``import:<Export>`` for
``Fn::ImportValue`` of ``switchyard-${Stage}-<Export>``, ``getatt:<Id>.<Attr>``
for ``Fn::GetAtt``, and ``Fn::Sub`` templates with their variables so
replaced (a ``Fn::If`` by its value when the condition holds, which is what
the default parameters deploy).
"""

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from switchyard_infra.paths import SERVICES_DIR, TEMPLATES_DIR
from switchyard_infra.templates import load_template

pytestmark = pytest.mark.unit


def _arn(service: str, name: str) -> str:
    """An ARN of this account and region, as the templates spell it."""
    return (
        f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{name}"
    )


CONNECTOR_DYNAMODB = _arn("lambda", "function:switchyard-${Stage}-connector-dynamodb")
CONNECTOR_WEBHOOK = _arn("lambda", "function:switchyard-${Stage}-connector-webhook")


def _logs(log_group: str) -> set[tuple[str, str]]:
    resource = f"getatt:{log_group}.Arn"
    return {("logs:CreateLogStream", resource), ("logs:PutLogEvents", resource)}


# (template, role logical id) -> every (action, resource) the function needs.
REQUIRED: dict[tuple[str, str], set[tuple[str, str]]] = {
    ("service-router.yaml", "RouterRole"): _logs("RouterLogGroup")
    | {
        # The Kinesis event source mapping (the Lambda developer guide's
        # list; SubscribeToShard serves an enhanced fan-out consumer).
        (f"kinesis:{action}", "import:EventsStreamArn")
        for action in (
            "DescribeStream",
            "DescribeStreamSummary",
            "GetRecords",
            "GetShardIterator",
            "ListShards",
            "SubscribeToShard",
        )
    }
    | {
        # rules_source: GetObject (conditional, current version).
        ("s3:GetObject", "import:RulesBucketArn/${RulesKey}"),
        # A missing rules document must be 404 NoSuchKey, not 403.
        ("s3:ListBucket", "import:RulesBucketArn"),
        # payloads.store_payload: PutObject payloads/<event id>.json.
        ("s3:PutObject", "import:PayloadBucketArn/payloads/*"),
        # deadletters: SendMessageBatch; the mapping's on-failure destination.
        ("sqs:SendMessage", "import:DeadLetterQueueArn"),
        # dispatch: Invoke (InvocationType Event) of each connector.
        ("lambda:InvokeFunction", CONNECTOR_DYNAMODB),
        ("lambda:InvokeFunction", CONNECTOR_WEBHOOK),
    },
    ("service-connectors.yaml", "DynamodbRole"): _logs("DynamodbLogGroup")
    | {
        # dynamodb.deliver: conditional PutItem into the target table.
        ("dynamodb:PutItem", _arn("dynamodb", "table/switchyard-${Stage}-delivery-*")),
        # payloads: GetObject of an event_ref; deadletters: PutObject of a
        # failure record's event too large for a message.
        ("s3:GetObject", "import:PayloadBucketArn/payloads/*"),
        ("s3:PutObject", "import:PayloadBucketArn/payloads/*"),
        # deadletters: SendMessage(Batch); the on-failure destination.
        ("sqs:SendMessage", "import:DeadLetterQueueArn"),
    },
    ("service-connectors.yaml", "WebhookRole"): _logs("WebhookLogGroup")
    | {
        # dedupe.DeliveryLedger: PutItem claim/complete, GetItem, DeleteItem.
        ("dynamodb:PutItem", "import:IdempotencyTableArn"),
        ("dynamodb:GetItem", "import:IdempotencyTableArn"),
        ("dynamodb:DeleteItem", "import:IdempotencyTableArn"),
        ("s3:GetObject", "import:PayloadBucketArn/payloads/*"),
        ("s3:PutObject", "import:PayloadBucketArn/payloads/*"),
        ("sqs:SendMessage", "import:DeadLetterQueueArn"),
        # credentials: GetParameter / GetSecretValue under the stage prefix.
        ("ssm:GetParameter", _arn("ssm", "parameter/switchyard/${Stage}/*")),
        (
            "secretsmanager:GetSecretValue",
            _arn("secretsmanager", "secret:switchyard/${Stage}/*"),
        ),
    },
    ("service-dlq-processor.yaml", "DlqProcessorRole"): _logs("DlqProcessorLogGroup")
    | {
        # The SQS event source mapping.
        (f"sqs:{action}", "import:DeadLetterQueueArn")
        for action in (
            "ReceiveMessage",
            "DeleteMessage",
            "ChangeMessageVisibility",
            "GetQueueAttributes",
        )
    }
    | {
        # store.record_failure: conditional UpdateItem.
        ("dynamodb:UpdateItem", "import:FailedEventsTableArn"),
        # alarm: PutItem claims a window, DeleteItem gives it back.
        ("dynamodb:PutItem", "import:IdempotencyTableArn"),
        ("dynamodb:DeleteItem", "import:IdempotencyTableArn"),
        # stream.StreamReader: GetShardIterator + GetRecords.
        ("kinesis:GetShardIterator", "import:EventsStreamArn"),
        ("kinesis:GetRecords", "import:EventsStreamArn"),
        # store._offload: PutObject payloads/dlq/<record id>/<name>.
        ("s3:PutObject", "import:PayloadBucketArn/payloads/dlq/*"),
        # alarm.notify: Publish.
        ("sns:Publish", "import:AlarmTopicArn"),
    },
    ("service-user-api.yaml", "UserApiRole"): _logs("UserApiLogGroup")
    | {
        # store: GetItem, PutItem, DeleteItem by user_id.
        ("dynamodb:GetItem", "import:UsersTableArn"),
        ("dynamodb:PutItem", "import:UsersTableArn"),
        ("dynamodb:DeleteItem", "import:UsersTableArn"),
    },
}

# service directory -> (template, its roles, the package in src/)
SERVICES = {
    "router": ("service-router.yaml", ("RouterRole",), "router"),
    "connectors": (
        "service-connectors.yaml",
        ("DynamodbRole", "WebhookRole"),
        "connectors",
    ),
    "dlq-processor": (
        "service-dlq-processor.yaml",
        ("DlqProcessorRole",),
        "dlq_processor",
    ),
    "user-api": ("service-user-api.yaml", ("UserApiRole",), "user_api"),
}

# boto3 client methods and the IAM action each needs.
CALL_ACTIONS = {
    "get_object": "s3:GetObject",
    "head_object": "s3:GetObject",
    "put_object": "s3:PutObject",
    "delete_object": "s3:DeleteObject",
    "copy_object": "s3:PutObject",
    "list_objects_v2": "s3:ListBucket",
    "send_message": "sqs:SendMessage",
    "send_message_batch": "sqs:SendMessage",
    "receive_message": "sqs:ReceiveMessage",
    "delete_message": "sqs:DeleteMessage",
    "invoke": "lambda:InvokeFunction",
    "get_shard_iterator": "kinesis:GetShardIterator",
    "get_records": "kinesis:GetRecords",
    "describe_stream": "kinesis:DescribeStream",
    "describe_stream_summary": "kinesis:DescribeStreamSummary",
    "list_shards": "kinesis:ListShards",
    "put_record": "kinesis:PutRecord",
    "put_records": "kinesis:PutRecords",
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
    "query": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "batch_write_item": "dynamodb:BatchWriteItem",
    "batch_get_item": "dynamodb:BatchGetItem",
    "transact_write_items": "dynamodb:PutItem",
    "describe_table": "dynamodb:DescribeTable",
    "publish": "sns:Publish",
    "get_parameter": "ssm:GetParameter",
    "get_parameters": "ssm:GetParameters",
    "get_secret_value": "secretsmanager:GetSecretValue",
    "decrypt": "kms:Decrypt",
}
# A method called, or passed on to be called (executor.submit(c.invoke, ...)).
_CALL = re.compile(
    r"\.(" + "|".join(sorted(CALL_ACTIONS, key=len, reverse=True)) + r")\s*[(,]"
)

# Calls in a service's package that its Lambda never makes: the console
# imports dlq_processor.store (listing, counts, load_event) and
# dlq_processor.redrive (Invoke of connectors) and runs them with its own
# credentials; the Lambda handler only records failures and alarms.
NOT_IN_LAMBDA = {
    "dlq-processor": {"query", "scan", "get_item", "get_object", "invoke"},
}


def _template(name: str) -> dict[str, Any]:
    return load_template(TEMPLATES_DIR / name)


def _canonical(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::ImportValue":
            text = _canonical(argument)
            return "import:" + text.removeprefix("switchyard-${Stage}-")
        if function == "Fn::GetAtt":
            parts = argument.split(".") if isinstance(argument, str) else argument
            return "getatt:" + ".".join(parts)
        if function == "Fn::If":
            return _canonical(argument[1])
        if function == "Ref":
            return "${" + argument + "}"
        if function == "Fn::Sub":
            if isinstance(argument, str):
                return argument
            text, variables = argument
            for name, inner in variables.items():
                text = text.replace("${" + name + "}", _canonical(inner))
            return text
    raise AssertionError(f"no canonical form for resource {value!r}")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted(template: dict[str, Any], role: str) -> set[tuple[str, str]]:
    """Every (action, resource) the role's inline policies allow."""
    pairs = set()
    for policy in template["Resources"][role]["Properties"]["Policies"]:
        for statement in _as_list(policy["PolicyDocument"]["Statement"]):
            assert statement.get("Effect") == "Allow", statement
            assert "Condition" not in statement, statement
            for action in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    pairs.add((action, _canonical(resource)))
    return pairs


ROLES = sorted(REQUIRED)


@pytest.mark.parametrize("key", ROLES, ids=lambda k: k[1])
def test_role_grants_every_permission_its_code_needs(key: tuple[str, str]):
    template_name, role = key

    missing = REQUIRED[key] - granted(_template(template_name), role)

    assert sorted(missing) == []


@pytest.mark.parametrize("key", ROLES, ids=lambda k: k[1])
def test_role_grants_nothing_its_code_does_not_need(key: tuple[str, str]):
    template_name, role = key

    extra = granted(_template(template_name), role) - REQUIRED[key]

    assert sorted(extra) == []


def test_every_lambda_role_of_the_service_templates_is_checked():
    roles = {
        (path.name, logical_id)
        for path in TEMPLATES_DIR.glob("service-*.yaml")
        for logical_id, spec in load_template(path)["Resources"].items()
        if spec["Type"] == "AWS::IAM::Role"
    }

    assert roles == set(REQUIRED)


def _calls(package_dir: Path) -> set[str]:
    calls = set()
    for path in package_dir.rglob("*.py"):
        calls.update(_CALL.findall(path.read_text(encoding="utf-8")))
    return calls


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_boto3_call_of_the_service_is_granted(service: str):
    template_name, roles, package = SERVICES[service]
    calls = _calls(SERVICES_DIR / service / "src" / package)
    actions = {
        action
        for role in roles
        for action, _ in granted(_template(template_name), role)
    }

    ungranted = {
        call: CALL_ACTIONS[call]
        for call in calls - NOT_IN_LAMBDA.get(service, set())
        if CALL_ACTIONS[call] not in actions
    }

    assert calls, f"no boto3 call found in {service}: is the scan broken?"
    assert ungranted == {}


def test_calls_left_to_the_console_are_still_in_the_service():
    # A stale exclusion would hide a real call; each must still be there.
    for service, excluded in NOT_IN_LAMBDA.items():
        _, _, package = SERVICES[service]
        calls = _calls(SERVICES_DIR / service / "src" / package)

        assert excluded <= calls, service


def test_the_call_scan_finds_calls_it_must_grant():
    text = "client.send_message_batch(QueueUrl=u)\nsubmit(self.lam.invoke, x)\n"

    assert set(_CALL.findall(text)) == {"send_message_batch", "invoke"}
    assert _CALL.findall("report.invoke_calls += 1\nself.get_items()") == []
    assert _CALL.findall("rest = parts.path + parts.query + parts.fragment") == []


def test_canonical_form_names_imports_and_sub_variables():
    resource = {
        "Fn::Sub": [
            "${Arn}/payloads/*",
            {"Arn": {"Fn::ImportValue": {"Fn::Sub": "switchyard-${Stage}-B"}}},
        ]
    }

    assert _canonical(resource) == "import:B/payloads/*"
    assert _canonical({"Fn::GetAtt": ["G", "Arn"]}) == "getatt:G.Arn"


def test_shared_encryption_needs_no_kms_grant_in_function_roles():
    # Kinesis with the AWS managed key and SSE-SQS need no IAM kms grant;
    # the alarm topic's own key lets account principals use it through SNS.
    # Should shared.yaml change any of these, the readers need kms:Decrypt
    # (and the publisher kms:GenerateDataKey*) on the key in REQUIRED.
    resources = _template("shared.yaml")["Resources"]
    key_policy = resources["AlarmTopicKey"]["Properties"]["KeyPolicy"]
    via_sns = [
        s
        for s in key_policy["Statement"]
        if s["Principal"] == {"AWS": "*"}
        and set(s["Action"]) >= {"kms:Decrypt", "kms:GenerateDataKey*"}
        and s["Condition"]["StringEquals"]["kms:ViaService"]
        == {"Fn::Sub": "sns.${AWS::Region}.amazonaws.com"}
    ]

    assert resources["EventsStream"]["Properties"]["StreamEncryption"] == {
        "EncryptionType": "KMS",
        "KeyId": "alias/aws/kinesis",
    }
    for queue in ("DeadLetterQueue", "UnprocessableQueue"):
        assert resources[queue]["Properties"]["SqsManagedSseEnabled"] is True
        assert "KmsMasterKeyId" not in resources[queue]["Properties"]
    assert via_sns, "the alarm key no longer lets account principals publish"


# Function logical id -> (template, settings module, variables it must get).
FUNCTIONS = {
    "RouterFunction": (
        "service-router.yaml",
        "router.config",
        {
            "RULES_BUCKET",
            "DEAD_LETTER_QUEUE_URL",
            "PAYLOAD_BUCKET",
            "CONNECTOR_FUNCTIONS",
        },
    ),
    "DynamodbFunction": (
        "service-connectors.yaml",
        "connectors.settings",
        {"DEAD_LETTER_QUEUE_URL", "PAYLOAD_BUCKET", "DELIVERY_TABLE_PREFIX"},
    ),
    "WebhookFunction": (
        "service-connectors.yaml",
        "connectors.settings",
        {"DEAD_LETTER_QUEUE_URL", "PAYLOAD_BUCKET", "IDEMPOTENCY_TABLE"},
    ),
    "DlqProcessorFunction": (
        "service-dlq-processor.yaml",
        "dlq_processor.config",
        {
            "FAILED_EVENTS_TABLE",
            "IDEMPOTENCY_TABLE",
            "EVENTS_STREAM_NAME",
            "PAYLOAD_BUCKET",
            "ALARM_TOPIC_ARN",
        },
    ),
    "UserApiFunction": (
        "service-user-api.yaml",
        "user_api.config",
        {"USERS_TABLE", "CORS_ALLOWED_ORIGINS"},
    ),
}
# Read by Powertools rather than the settings module.
LOGGER_VARIABLES = {"POWERTOOLS_SERVICE_NAME", "LOG_LEVEL"}
_NAME_CONSTANT = re.compile(r'^\w+ = "([A-Z][A-Z0-9_]+)"', re.MULTILINE)


def _environment(template: dict[str, Any], function: str) -> dict[str, Any]:
    spec = template["Resources"][function]["Properties"]
    return spec["Environment"]["Variables"]


def _value(template: dict[str, Any], value: Any) -> str:
    """What the variable holds once deployed with default parameters."""
    if isinstance(value, str):
        return value
    ((function, argument),) = value.items()
    if function == "Ref":
        return str(template["Parameters"][argument]["Default"])
    if function == "Fn::ImportValue":
        export = _canonical(argument).removeprefix("switchyard-${Stage}-")
        if export.endswith("Url"):
            return "https://sqs.us-east-1.amazonaws.com/123456789012/q"
        return f"dev-{export}"
    if function == "Fn::Sub" and isinstance(argument, str):
        return argument.replace("${Stage}", "dev")
    if function == "Fn::If":
        return _value(template, argument[1])
    raise AssertionError(f"no value for {value!r}")


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_function_environment_names_are_ones_its_settings_read(function: str):
    template_name, module, _ = FUNCTIONS[function]
    source = Path(importlib.import_module(module).__file__).read_text("utf-8")
    declared = set(_NAME_CONSTANT.findall(source)) | LOGGER_VARIABLES

    names = set(_environment(_template(template_name), function))

    assert sorted(names - declared) == []


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_function_environment_sets_every_variable_its_code_needs(function: str):
    template_name, module, required = FUNCTIONS[function]
    template = _template(template_name)
    env = {
        name: _value(template, value)
        for name, value in _environment(template, function).items()
    }

    settings = importlib.import_module(module).Settings.from_env(env)

    assert sorted(required - {n for n, v in env.items() if v}) == []
    assert settings is not None


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_function_environment_names_the_resources_its_role_grants(function: str):
    # A table, queue, bucket, stream or topic the code is told about must be
    # one its role may use: RULES_BUCKET <-> RulesBucketArn, and so on.
    template_name, _, _ = FUNCTIONS[function]
    template = _template(template_name)
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    resources = {resource for _, resource in granted(template, role)}

    for name, value in _environment(template, function).items():
        if not (isinstance(value, dict) and "Fn::ImportValue" in value):
            continue
        export = _canonical(value).removeprefix("import:")
        arn = re.sub(r"(Name|Url|Arn)$", "Arn", export)
        named = {r for r in resources if r == f"import:{arn}"}
        named |= {r for r in resources if r.startswith(f"import:{arn}/")}

        assert named, f"{function} {name} names {export}, which its role cannot use"


# What Lambda itself does with the function's role for an event source.
SOURCE_ACTIONS = {
    "kinesis": {
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
    },
    "sqs": {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    },
}


def _invoked_by_lambda() -> list[tuple[str, str, dict[str, Any]]]:
    """(template, resource id, properties) of every mapping and invoke config."""
    found = []
    for path in sorted(TEMPLATES_DIR.glob("service-*.yaml")):
        for logical_id, spec in load_template(path)["Resources"].items():
            if spec["Type"] in (
                "AWS::Lambda::EventSourceMapping",
                "AWS::Lambda::EventInvokeConfig",
            ):
                found.append((path.name, logical_id, spec["Properties"]))
    return found


def _function_role(template: dict[str, Any], properties: dict[str, Any]) -> str:
    function = properties["FunctionName"]["Ref"]
    return template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]


@pytest.mark.parametrize(
    "template_name, logical_id, properties",
    _invoked_by_lambda(),
    ids=[logical_id for _, logical_id, _ in _invoked_by_lambda()],
)
def test_lambda_may_read_the_source_and_send_to_the_destination(
    template_name: str, logical_id: str, properties: dict[str, Any]
):
    template = _template(template_name)
    grants = granted(template, _function_role(template, properties))
    on_failure = properties.get("DestinationConfig", {}).get("OnFailure", {})
    needed = set()
    if "Destination" in on_failure:
        # Lambda sends the failure record with the function's own role.
        needed.add(("sqs:SendMessage", _canonical(on_failure["Destination"])))
    if "EventSourceArn" in properties:
        source = _canonical(properties["EventSourceArn"])
        kind = "kinesis" if source.endswith("StreamArn") else "sqs"
        needed |= {(action, source) for action in SOURCE_ACTIONS[kind]}

    assert needed, f"{logical_id} has neither a source nor a destination"
    assert sorted(needed - grants) == []
