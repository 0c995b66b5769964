"""A Kinesis event source mapping, run here instead of in moto.

One thread per shard reads the stream and invokes the function synchronously
with AWS's Kinesis event, honouring the mapping's properties: ``BatchSize``,
``MaximumBatchingWindowInSeconds``, ``StartingPosition``,
``BisectBatchOnFunctionError`` (splitting does not use up retries),
``MaximumRetryAttempts`` and ``MaximumRecordAgeInSeconds`` (-1 is infinite),
``FunctionResponseTypes: [ReportBatchItemFailures]`` (resume from the lowest
failed sequence number; an unknown or empty identifier fails the whole
batch) and an on-failure destination, which receives only the shard and
sequence metadata (``KinesisBatchInfo``), as AWS sends it.

Limitation: a retried batch is the failed part of the same batch; Lambda may
extend a retried batch with newer records. The shard stays blocked while a
batch is retried, as on AWS.
"""

import base64
import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from switchyard_local.destinations import Destinations, aws_timestamp
from switchyard_local.errors import LocalRuntimeError
from switchyard_local.moto_server import REGION, local_client
from switchyard_local.runner import FunctionRunner, InvokeResult
from switchyard_local.templates import EventSourceMappingSpec

logger = logging.getLogger(__name__)


def _arrival(record: dict[str, Any]) -> datetime:
    arrival = record.get("ApproximateArrivalTimestamp")
    if isinstance(arrival, datetime):
        return arrival if arrival.tzinfo else arrival.replace(tzinfo=UTC)
    return datetime.now(UTC)


class KinesisPoller:
    """Polls every shard of one stream for one function."""

    def __init__(
        self,
        mapping: EventSourceMappingSpec,
        runner: FunctionRunner,
        destinations: Destinations,
        moto_url: str,
        poll_interval: float = 0.2,
        retry_delay: float = 0.2,
    ) -> None:
        props = mapping.properties
        self.mapping = mapping
        self.runner = runner
        self.destinations = destinations
        self.stream_arn = mapping.event_source_arn
        self.stream_name = self.stream_arn.split("/", 1)[1]
        self.batch_size = int(props.get("BatchSize", 100))
        self.window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.starting_position = props.get("StartingPosition", "LATEST")
        self.starting_timestamp = props.get("StartingPositionTimestamp")
        self.bisect = str(props.get("BisectBatchOnFunctionError", False)).lower() in (
            "true",
            "1",
        )
        self.max_retries = int(props.get("MaximumRetryAttempts", -1))
        self.max_age = int(props.get("MaximumRecordAgeInSeconds", -1))
        self.partial = "ReportBatchItemFailures" in (
            props.get("FunctionResponseTypes") or []
        )
        on_failure = (props.get("DestinationConfig") or {}).get("OnFailure") or {}
        self.on_failure: str | None = on_failure.get("Destination")
        self.enabled = str(props.get("Enabled", True)).lower() not in ("false", "0")
        self.poll_interval = poll_interval
        self.retry_delay = retry_delay
        self.kinesis = local_client("kinesis", moto_url)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._caught_up: dict[str, bool] = {}
        self.stats = {"invocations": 0, "records": 0, "discarded": 0}

    def start(self) -> "KinesisPoller":
        if not self.enabled:
            return self
        shards = self.kinesis.list_shards(StreamName=self.stream_name)["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            self._caught_up[shard_id] = False
            iterator = self._iterator(shard_id)
            thread = threading.Thread(
                target=self._poll,
                args=(shard_id, iterator),
                name=f"kinesis-{self.mapping.function_name}-{shard_id}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()
        return self

    def _iterator(self, shard_id: str) -> str:
        arguments: dict[str, Any] = {
            "StreamName": self.stream_name,
            "ShardId": shard_id,
            "ShardIteratorType": self.starting_position,
        }
        if self.starting_position == "AT_TIMESTAMP":
            arguments["Timestamp"] = self.starting_timestamp
        return self.kinesis.get_shard_iterator(**arguments)["ShardIterator"]

    @property
    def idle(self) -> bool:
        """Every shard read to its end and nothing being processed."""
        return all(self._caught_up.values())

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _poll(self, shard_id: str, iterator: str) -> None:
        buffer: list[dict[str, Any]] = []
        first_buffered_at = 0.0
        while not self._stop.is_set():
            try:
                fetched = 0
                if len(buffer) < self.batch_size and iterator:
                    answer = self.kinesis.get_records(
                        ShardIterator=iterator, Limit=min(10000, self.batch_size)
                    )
                    iterator = answer.get("NextShardIterator")
                    fetched = len(answer["Records"])
                    if fetched and not buffer:
                        first_buffered_at = time.monotonic()
                    buffer.extend(answer["Records"])
                if not buffer:
                    self._caught_up[shard_id] = True
                    self._stop.wait(self.poll_interval)
                    continue
                self._caught_up[shard_id] = False
                waited = time.monotonic() - first_buffered_at
                if len(buffer) < self.batch_size and waited < self.window:
                    if not fetched:
                        self._stop.wait(min(self.poll_interval, self.window - waited))
                    continue
                batch, buffer = buffer[: self.batch_size], buffer[self.batch_size :]
                first_buffered_at = time.monotonic()
                self._process(shard_id, batch, attempts=0)
            except (ClientError, LocalRuntimeError):
                logger.exception("kinesis poller of %s", self.mapping.function_name)
                self._stop.wait(1.0)

    def _process(
        self, shard_id: str, batch: list[dict[str, Any]], attempts: int
    ) -> None:
        """Invoke until every record succeeded or was discarded."""
        invocations = attempts
        while batch and not self._stop.is_set():
            if self.max_age >= 0:
                age = (datetime.now(UTC) - _arrival(batch[0])).total_seconds()
                if age > self.max_age:
                    self._discard(shard_id, batch, "RecordAgeExceeded", invocations)
                    return
            result = self._invoke(shard_id, batch)
            invocations += 1
            failed_from = self._failed_from(result, batch)
            if failed_from is None:
                return
            batch = batch[failed_from:]
            function_error = not result.ok
            if self.bisect and function_error and len(batch) > 1:
                half = len(batch) // 2
                self._process(shard_id, batch[:half], attempts)
                self._process(shard_id, batch[half:], attempts)
                return
            attempts += 1
            if 0 <= self.max_retries < attempts:
                self._discard(shard_id, batch, "RetryAttemptsExhausted", invocations)
                return
            self._stop.wait(self.retry_delay)

    def _failed_from(
        self, result: InvokeResult, batch: list[dict[str, Any]]
    ) -> int | None:
        """Index of the first record to retry, or None when all succeeded."""
        if not result.ok:
            return 0
        if not self.partial:
            return None
        try:
            response = result.json()
        except ValueError:
            return 0
        if not response or not isinstance(response, dict):
            return None
        failures = response.get("batchItemFailures")
        if not failures:
            return None
        positions = {r["SequenceNumber"]: i for i, r in enumerate(batch)}
        indexes = []
        for failure in failures:
            identifier = (
                failure.get("itemIdentifier") if isinstance(failure, dict) else None
            )
            if not identifier or identifier not in positions:
                logger.warning(
                    "%s reported an unknown item %r: the whole batch is retried",
                    self.mapping.function_name,
                    identifier,
                )
                return 0
            indexes.append(positions[identifier])
        return min(indexes)

    def _event(self, shard_id: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": record["PartitionKey"],
                        "sequenceNumber": record["SequenceNumber"],
                        "data": base64.b64encode(record["Data"]).decode(),
                        "approximateArrivalTimestamp": _arrival(record).timestamp(),
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{shard_id}:{record['SequenceNumber']}",
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": f"arn:aws:iam::{self.stream_arn.split(':')[4]}"
                    ":role/local-event-source-mapping",
                    "awsRegion": REGION,
                    "eventSourceARN": self.stream_arn,
                }
                for record in batch
            ]
        }

    def _invoke(self, shard_id: str, batch: list[dict[str, Any]]) -> InvokeResult:
        payload = json.dumps(self._event(shard_id, batch)).encode()
        self.stats["invocations"] += 1
        self.stats["records"] += len(batch)
        return self.runner.invoke(self.mapping.function_name, payload)

    def _discard(
        self, shard_id: str, batch: list[dict[str, Any]], condition: str, count: int
    ) -> None:
        self.stats["discarded"] += len(batch)
        logger.warning(
            "%s: discarding %d records of %s (%s)",
            self.mapping.function_name,
            len(batch),
            shard_id,
            condition,
        )
        if not self.on_failure:
            return
        function = self.runner.get(self.mapping.function_name)
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": function.spec.arn,
                "condition": condition,
                "approximateInvokeCount": count,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": aws_timestamp(),
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": batch[0]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": aws_timestamp(_arrival(batch[0])),
                "approximateArrivalOfLastRecord": aws_timestamp(_arrival(batch[-1])),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        try:
            self.destinations.send(self.on_failure, record)
        except LocalRuntimeError:
            logger.exception("on-failure destination %s", self.on_failure)
