"""The router Lambda: a Kinesis batch in, a partial batch response out.

A thin adapter: clients and settings are made once per container (on the
first invocation, so importing this module needs no environment), each
batch goes to ``Router.process``, and one JSON line logs the batch.

Powertools' ``BatchProcessor`` is not used: it handles records one at a
time, while the router must see the whole batch to pack deliveries per
target, and learns which records failed only after the grouped invokes.
The response has the same shape (``batchItemFailures``).
"""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger

from router.config import Settings
from router.dispatch import Dispatcher
from router.routing import Router
from router.rules_source import RulesSource

logger = Logger(service="router")
_router: Router | None = None


def build_router(
    settings: Settings,
    lambda_client: Any,
    s3_client: Any,
    sqs_client: Any,
    log: Any = logger,
) -> Router:
    """A router wired to the given clients (tests pass fakes or moto)."""
    executor = ThreadPoolExecutor(
        max_workers=settings.invoke_concurrency, thread_name_prefix="invoke"
    )
    rules = RulesSource(
        settings.rules_bucket,
        settings.rules_key,
        settings.rules_ttl_seconds,
        s3_client,
        log,
    )
    dispatcher = Dispatcher(
        lambda_client,
        s3_client,
        settings.connectors,
        settings.payload_bucket,
        settings.async_payload_limit_bytes,
        executor,
        log,
    )
    return Router(
        rules,
        dispatcher,
        sqs_client,
        s3_client,
        settings.dead_letter_queue_url,
        settings.payload_bucket,
        settings.max_event_bytes,
        log,
    )


def get_router() -> Router:
    """The container's router, built on first use from the environment."""
    global _router
    if _router is None:
        import boto3
        from botocore.config import Config

        settings = Settings.from_env()
        pool = Config(max_pool_connections=max(10, settings.invoke_concurrency))
        _router = build_router(
            settings,
            boto3.client("lambda", config=pool),
            boto3.client("s3"),
            boto3.client("sqs"),
        )
    return _router


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = get_router().process(event.get("Records") or [])
    logger.info("batch routed", extra=report.log_fields())
    return {"batchItemFailures": report.batch_item_failures()}
