"""The Lambda entry point: SQS dead-letter messages in, partial batch out.

Each SQS record is handled on its own; one that cannot be stored is
reported in ``batchItemFailures`` so SQS keeps it (and, after the redrive
policy's receive count, moves it to the unprocessable queue). Clients are
built on the first invocation and reused while the container is warm.
"""

import functools
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from dlq_processor.alarm import BurstAlarm
from dlq_processor.config import SERVICE_NAME, Settings
from dlq_processor.processor import DeadLetterProcessor
from dlq_processor.store import FailureStore
from dlq_processor.stream import StreamReader

logger = Logger(service=SERVICE_NAME)
# The domain modules log through the standard library; give them the same
# JSON format, service and keys as this logger.
copy_config_to_registered_loggers(source_logger=logger, include={"dlq_processor"})
batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@functools.cache
def dead_letter_processor() -> DeadLetterProcessor:
    """The processor for this container, configured from the environment."""
    settings = Settings.from_env()
    store = FailureStore(
        settings.failed_events_table, payload_bucket=settings.payload_bucket
    )
    alarm = None
    if settings.alarm_topic_arn:
        alarm = BurstAlarm(
            settings.alarm_topic_arn,
            settings.idempotency_table or settings.failed_events_table,
            key_name="id" if settings.idempotency_table else "record_id",
            window_seconds=settings.alarm_window_seconds,
        )
    return DeadLetterProcessor(
        store=store,
        stream_reader=StreamReader(stream_name=settings.events_stream_name),
        alarm=alarm,
    )


def handle_record(record: SQSRecord) -> None:
    """Store what one dead-letter message holds; raise to keep it queued."""
    logger.append_keys(sqs_message_id=record.message_id)
    try:
        dead_letter_processor().process(
            record.message_id, record.body, _received_at(record)
        )
    except Exception:
        logger.exception("dead-letter message %s was not stored", record.message_id)
        raise
    finally:
        logger.remove_keys(["sqs_message_id"])


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=batch, context=context
    )


def _received_at(record: SQSRecord) -> str | None:
    """When SQS first handed the message out, as the failure time fallback."""
    millis = record.attributes.approximate_first_receive_timestamp
    try:
        moment = datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
