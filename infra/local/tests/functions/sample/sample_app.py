"""Tiny functions the local runtime's tests run in real worker processes."""

import os
import time

import boto3

CALLS = {"count": 0}


def echo(event, context):
    CALLS["count"] += 1
    print("echo called", flush=True)
    return {
        "event": event,
        "function_name": context.function_name,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "warm_calls": CALLS["count"],
        "pid": os.getpid(),
        "greeting": os.environ.get("GREETING"),
    }


def fail(event, context):
    raise ValueError(f"cannot handle {event.get('n')}")


def sleep(event, context):
    time.sleep(float(event.get("seconds", 10)))
    return {"slept": True}


def crash(event, context):
    os._exit(3)


def flaky(event, context):
    """Fails the first ``fail_times`` calls of this worker, then succeeds."""
    CALLS["count"] += 1
    if CALLS["count"] <= int(event.get("fail_times", 1)):
        raise RuntimeError(f"flaky failure {CALLS['count']}")
    return {"ok": True, "calls": CALLS["count"]}


def batch(event, context):
    """Reports as failed every record whose data decodes to text holding 'bad'."""
    import base64

    failures = []
    records = event.get("Records", [])
    for record in records:
        if "kinesis" in record:
            data = base64.b64decode(record["kinesis"]["data"]).decode()
            item_id = record["kinesis"]["sequenceNumber"]
        else:
            data = record["body"]
            item_id = record["messageId"]
        if "bad" in data:
            failures.append({"itemIdentifier": item_id})
        else:
            boto3.client("sqs").send_message(
                QueueUrl=os.environ["SEEN_QUEUE_URL"], MessageBody=data
            )
    return {"batchItemFailures": failures}


def raise_on_bad(event, context):
    """Raises for any batch holding a record with 'bad'; records the good ones."""
    import base64

    datas = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    if any("bad" in d for d in datas):
        raise RuntimeError(f"bad record in batch of {len(datas)}")
    for data in datas:
        boto3.client("sqs").send_message(
            QueueUrl=os.environ["SEEN_QUEUE_URL"], MessageBody=data
        )
    return None


def proxy_echo(event, context):
    """An API Gateway proxy function answering with the event it received."""
    import json

    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"event": event}),
    }
