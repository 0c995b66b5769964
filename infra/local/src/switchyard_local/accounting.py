"""Account for every replayed event: delivered, parked, unrouted, or lost.

What was delivered is read from the destinations themselves (the DynamoDB
delivery table, the webhook receiver's own count), what was parked from the
failed-events table, and what should have been routed from the rules
document through the router's own rule engine (``router.rules``, the same
code the router and the console run). The numbers add up by construction
(``sent = delivered + parked + unrouted``); ``lost``, ``duplicated`` and
``unexpected`` are the checks that they are also right.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tally:
    sent: int
    delivered: int
    parked: int
    unrouted: int
    routed: int
    expected_routed: int
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    delivered_and_parked: list[str] = field(default_factory=list)

    @property
    def adds_up(self) -> bool:
        return self.sent == self.delivered + self.parked + self.unrouted

    @property
    def clean(self) -> bool:
        """Nothing lost, nothing delivered twice, nothing routed by mistake."""
        return self.adds_up and not (self.lost or self.duplicated or self.unexpected)

    def lines(self) -> list[str]:
        return [
            f"sent       {self.sent:6d}",
            f"routed     {self.routed:6d}  (the rules expect {self.expected_routed})",
            f"delivered  {self.delivered:6d}",
            f"parked     {self.parked:6d}  (failure records)",
            f"unrouted   {self.unrouted:6d}",
            f"lost       {len(self.lost):6d}",
            f"duplicated {len(self.duplicated):6d}",
        ]


def expected_routed(
    document: dict[str, Any], events: Iterable[dict[str, Any]]
) -> set[str]:
    """Ids of the events that the rules send to at least one target."""
    from router.rules import RuleSet

    rules = RuleSet.from_document(document)
    return {str(e["id"]) for e in events if rules.targets_for(e)}


def scan_attribute(dynamodb: Any, table: str, attribute: str) -> list[str]:
    """One string attribute of every item of a table."""
    values: list[str] = []
    arguments: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": "#a",
        "ExpressionAttributeNames": {"#a": attribute},
    }
    while True:
        page = dynamodb.scan(**arguments)
        values.extend(
            item[attribute]["S"] for item in page["Items"] if attribute in item
        )
        if "LastEvaluatedKey" not in page:
            return values
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def tally(
    *,
    sent_ids: list[str],
    expected: set[str],
    deliveries: Counter[str],
    parked_ids: Iterable[str],
) -> Tally:
    """The summary of one replay from what the destinations hold."""
    delivered = set(deliveries)
    parked = set(parked_ids)
    routed = delivered | parked
    sent = set(sent_ids)
    return Tally(
        sent=len(sent_ids),
        delivered=len(delivered),
        parked=len(parked - delivered),
        unrouted=len(sent - routed),
        routed=len(routed),
        expected_routed=len(expected),
        lost=sorted(expected - routed),
        duplicated=sorted(i for i, n in deliveries.items() if n > 1),
        unexpected=sorted(routed - expected),
        delivered_and_parked=sorted(delivered & parked),
    )
