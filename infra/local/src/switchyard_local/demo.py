"""The demonstration run of ``make up`` and of the integration test.

Example rules route the GitHub events: pushes into a DynamoDB delivery table,
opened pull requests to a local webhook receiver that fails now and then.
The events are replayed (half KPL-aggregated straight into Kinesis, half
through ``POST /events``), and then every one of them is accounted for.
"""

import secrets
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from switchyard_local.accounting import Tally, expected_routed, scan_attribute, tally
from switchyard_local.http_server import LoopbackServer
from switchyard_local.replay import load_events, post_events, put_aggregated
from switchyard_local.stack import LocalStack
from switchyard_local.webhook_receiver import WebhookReceiver

DELIVERY_SUFFIX = "pushes"
DELIVERY_KEY = "event_id"


def events_path(root: Path) -> Path:
    """``../shared/data/github-events.jsonl`` beside the repository."""
    return root.parent / "shared" / "data" / "github-events.jsonl"


def demo_rules(table: str, webhook_url: str) -> dict[str, Any]:
    return {
        "rules": [
            {
                "name": "pushes-to-table",
                "enabled": True,
                "description": "Every push, stored in DynamoDB.",
                "pattern": {"type": ["PushEvent"]},
                "targets": [
                    {
                        "connector": "dynamodb",
                        "params": {"table": table, "key": DELIVERY_KEY},
                    },
                ],
            },
            {
                "name": "opened-pull-requests-to-webhook",
                "enabled": True,
                "description": "Newly opened pull requests, posted to a webhook.",
                "pattern": {
                    "type": ["PullRequestEvent"],
                    "payload": {"action": ["opened"]},
                },
                "targets": [
                    {"connector": "webhook", "params": {"url": webhook_url}},
                ],
            },
        ]
    }


def new_password() -> str:
    """A password the pool's policy accepts: upper, lower, digits."""
    return "Sy-" + secrets.token_urlsafe(9) + "a1A"


class Demo:
    """Rules, a receiver, users, a replay and its accounting, on one stack."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.receiver = WebhookReceiver()
        self.server: LoopbackServer | None = None
        self.table = ""
        self.rules: dict[str, Any] = {}
        self.sent_ids: list[str] = []
        self.events: list[dict[str, Any]] = []

    def prepare(self) -> None:
        """The receiver, the delivery table and the rules document."""
        self.server = LoopbackServer(self.receiver, "webhook-receiver").start()
        self.table = self.stack.create_delivery_table(DELIVERY_SUFFIX, DELIVERY_KEY)
        self.rules = demo_rules(self.table, f"{self.server.url}/hooks/pull-requests")
        self.stack.put_rules(self.rules)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def replay(
        self,
        events: list[dict[str, Any]],
        token: str,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Half aggregated into Kinesis, half through ``POST /events``."""
        self.events = events
        aggregated, posted = events[0::2], events[1::2]
        kinesis = self.stack.client("kinesis")
        put_aggregated(
            kinesis, self.stack.outputs["EventsStreamName"], aggregated, progress
        )
        self.sent_ids.extend(str(e["id"]) for e in aggregated)
        post_events(self.stack.api_url, token, posted, progress)
        self.sent_ids.extend(str(e["id"]) for e in posted)

    def counts(self) -> tuple[int, int]:
        """Delivered and parked so far (for progress)."""
        dynamodb = self.stack.client("dynamodb")
        delivered = len(scan_attribute(dynamodb, self.table, DELIVERY_KEY))
        delivered += len(self.receiver.accepted)
        parked = len(
            scan_attribute(
                dynamodb, self.stack.outputs["FailedEventsTableName"], "event_id"
            )
        )
        return delivered, parked

    def tally(self) -> Tally:
        dynamodb = self.stack.client("dynamodb")
        deliveries: Counter[str] = Counter(
            scan_attribute(dynamodb, self.table, DELIVERY_KEY)
        )
        deliveries.update(self.receiver.accepted)
        parked = scan_attribute(
            dynamodb, self.stack.outputs["FailedEventsTableName"], "event_id"
        )
        return tally(
            sent_ids=self.sent_ids,
            expected=expected_routed(self.rules, self.events),
            deliveries=deliveries,
            parked_ids=parked,
        )

    def wait(self, timeout: float = 120.0) -> bool:
        """Until the stack is idle and every expected event has landed."""
        expected = len(expected_routed(self.rules, self.events))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            remaining = max(1.0, deadline - time.monotonic())
            if not self.stack.wait_until_idle(timeout=remaining):
                return False
            delivered, parked = self.counts()
            if delivered + parked >= expected:
                return True
            time.sleep(0.5)
        return False


def load_demo_events(root: Path) -> list[dict[str, Any]]:
    return load_events(events_path(root))
