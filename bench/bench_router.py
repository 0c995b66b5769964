"""Router benchmarks: matching cost against rule count, and the handler's cost
against the floor of only decoding a batch. Figures are measured side by
side in one run and printed as ratios; nothing here passes or fails.

Run with ``make bench`` or ``python -m bench router``.

Times are CPU time of this process (``time.process_time``, all threads), not
wall time: the machine is shared, and CPU time is what the router costs.
"""

import base64
import json
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from switchyard_contracts import ConnectorRegistry

REPO = Path(__file__).resolve().parents[1]
EVENTS_PATH = REPO.parent / "shared" / "data" / "github-events.jsonl"
SHARD = "shardId-000000000000"


def load_events() -> list[dict[str, Any]]:
    lines = EVENTS_PATH.read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _field(event: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(event, dict) or key not in event:
            return None
        event = event[key]
    return event


def _patterns(event: dict[str, Any]) -> list[dict[str, Any]]:
    """Patterns of mixed operators, each drawn from one real event."""
    repo = _field(event, "repo", "name") or "none/none"
    login = _field(event, "actor", "login") or "none"
    kind = event.get("type", "none")
    owner = repo.split("/")[0] + "/"
    return [
        {"type": [kind], "repo": {"name": [repo]}},
        {"repo": {"name": [{"prefix": owner}]}, "public": [True]},
        {"repo": {"name": [{"suffix": repo[-8:]}]}, "type": [{"anything-but": "X"}]},
        {
            "actor": {"login": [{"equals-ignore-case": login.upper()}]},
            "type": [{"prefix": {"equals-ignore-case": kind[:4].lower()}}],
        },
        {"repo": {"name": [{"wildcard": owner + "*" + repo[-3:]}]}},
        {
            "actor": {"login": [login]},
            "payload": {"size": [{"numeric": [">=", 0]}], "ref": [{"exists": False}]},
        },
        {
            "$or": [
                {"actor": {"id": [_field(event, "actor", "id") or 0]}},
                {"repo": {"id": [_field(event, "repo", "id") or 0]}},
            ],
            "type": [{"anything-but": {"prefix": "Zz"}}],
        },
        {"org": {"login": [{"suffix": {"equals-ignore-case": login[-4:]}}]}},
    ]


# A few rules with no value to index on: tested on each event carrying the
# field, the same handful in every rule set.
UNANCHORED = [
    {"payload": {"size": [{"numeric": [">", 50]}]}},
    {"created_at": [{"anything-but": {"prefix": "2021-07-21"}}]},
    {"payload": {"ref_type": [{"wildcard": "*ag*"}]}},
]


def make_rules(count: int, events: list[dict[str, Any]], seed: int = 4) -> dict:
    chooser = random.Random(seed)
    rules = []
    for number in range(count - len(UNANCHORED)):
        options = _patterns(chooser.choice(events))
        rules.append(
            {
                "name": f"rule-{number}",
                "pattern": options[number % len(options)],
                "targets": [
                    {
                        "connector": "webhook",
                        "params": {"url": f"https://t{number % 7}"},
                    }
                ],
            }
        )
    for number, pattern in enumerate(UNANCHORED):
        rules.append(
            {
                "name": f"scan-{number}",
                "pattern": pattern,
                "targets": [{"connector": "dynamodb", "params": {"table": "all"}}],
            }
        )
    return {"rules": rules}


def bench_matching(events: list[dict[str, Any]]) -> None:
    from router.rules import RuleSet

    print("matching (events matched per second, index vs rule count)")
    print(f"  {'rules':>6} {'events/s':>10} {'matches/event':>14} {'compile ms':>10}")
    compiled_sets = {}
    for count in (10, 100, 1000):
        started = time.process_time()
        rules = RuleSet.from_document(make_rules(count, events))
        compiled = (time.process_time() - started) * 1000
        compiled_sets[count] = (rules, compiled)

    # Rule counts alternate within each round, so load on the machine
    # falls on all of them alike; the best round counts.
    timings = {count: float("inf") for count in compiled_sets}
    for _ in range(7):
        for count, (rules, _) in compiled_sets.items():
            started = time.process_time()
            for event in events:
                rules.match(event)
            elapsed = (time.process_time() - started) / len(events)
            timings[count] = min(timings[count], elapsed)

    for count, (rules, compiled) in compiled_sets.items():
        matches = sum(len(rules.match(e)) for e in events)
        print(
            f"  {count:>6} {1 / timings[count]:>10,.0f} "
            f"{matches / len(events):>14.2f} {compiled:>10.1f}"
        )
    print(
        f"  per-event time 1000 rules / 10 rules = {timings[1000] / timings[10]:.2f}"
        "  (target <= 2)"
    )

    # The same 1000 rules tested one by one, to show what the index saves.
    rules = compiled_sets[1000][0]
    sample = events[:100]
    started = time.process_time()
    for event in sample:
        [r.name for r in rules.rules if r.matches(event)]
    brute = (time.process_time() - started) / len(sample)
    print(
        f"  without the index, 1000 rules: {1 / brute:,.0f} events/s "
        f"({brute / timings[1000]:.0f}x slower)"
    )


class CountingLambda:
    def __init__(self) -> None:
        self.calls = 0
        self.bytes = 0

    def invoke(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        self.bytes += len(request["Payload"])
        return {"StatusCode": 202}


class StaticRules:
    """An S3 stand-in that serves one rules document."""

    def __init__(self, document: dict) -> None:
        self.body = json.dumps(document).encode()

    def get_object(self, **request: Any) -> dict[str, Any]:
        import io

        return {"Body": io.BytesIO(self.body), "ETag": '"bench"'}


def kinesis_batch(events: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    records = []
    for number in range(size):
        event = dict(events[number % len(events)])
        event["id"] = f"{event.get('id')}-{number}"
        data = base64.b64encode(json.dumps(event).encode()).decode()
        records.append(
            {
                "eventID": f"{SHARD}:{number}",
                "kinesis": {"data": data, "sequenceNumber": str(number)},
            }
        )
    return records


def bench_handler(events: list[dict[str, Any]]) -> None:
    import logging

    from router.dispatch import Dispatcher
    from router.routing import Router
    from router.rules_source import RulesSource

    size, repeat = 10_000, 4
    records = kinesis_batch(events, size)
    print(
        f"handler on a {size:,}-record batch (fake Lambda client, no network), "
        f"best of {repeat}, interleaved with the floor"
    )

    def floor() -> None:
        for record in records:
            json.loads(base64.b64decode(record["kinesis"]["data"]))

    log = logging.getLogger("bench-router")
    log.setLevel(logging.ERROR)
    connectors = ConnectorRegistry({"webhook": "fn-webhook", "dynamodb": "fn-dynamodb"})
    executor = ThreadPoolExecutor(max_workers=8)
    routers = {}
    for count in (10, 100, 1000):
        lam = CountingLambda()
        source = RulesSource(
            "b", "k", 3600, StaticRules(make_rules(count, events)), log
        )
        dispatcher = Dispatcher(lam, None, connectors, "p", 1_048_576, executor, log)
        routers[count] = Router(
            source, dispatcher, None, None, "q", "p", 1_048_576, log
        )
        routers[count].process(records[:10])  # loads and compiles the rules

    floor_time = float("inf")
    best: dict[int, tuple[float, Any]] = {}
    for _ in range(repeat):
        floor_time = min(floor_time, _timed(floor))
        for count, router in routers.items():
            timing = _timed_result(router.process, records)
            if count not in best or timing[0] < best[count][0]:
                best[count] = timing
    executor.shutdown()

    print(f"  floor (base64 + JSON only): {floor_time * 1000:8.1f} ms")
    for count, (handler_time, report) in best.items():
        calls_per_1000 = report.invoke_calls / max(report.matched, 1) * 1000
        print(
            f"  {count:>4} rules: {handler_time * 1000:8.1f} ms  "
            f"ratio to floor {handler_time / floor_time:5.2f}"
            f"{'  (target <= 3)' if count == 100 else ''}  "
            f"matched {report.matched:,}  deliveries {report.deliveries:,}  "
            f"invokes {report.invoke_calls}  "
            f"= {calls_per_1000:.2f} invokes per 1,000 routed events"
        )


def bench_deaggregation() -> None:
    from aws_kinesis_agg.aggregator import RecordAggregator
    from aws_kinesis_agg.deaggregator import deaggregate_records

    from router.records import decode_records

    aggregator = RecordAggregator()
    records = []
    for number in range(5000):
        body = json.dumps({"n": number, "pad": "x" * 200}).encode()
        full = aggregator.add_user_record(f"pk{number % 10}", body)
        if full is not None:
            records.append(full)
    records.append(aggregator.clear_and_get())
    batch = [
        {
            "eventID": f"{SHARD}:{number}",
            "kinesis": {
                "data": base64.b64encode(r.get_contents()[2]).decode(),
                "sequenceNumber": str(number),
                "kinesisSchemaVersion": "1.0",
                "partitionKey": "pk",
                "approximateArrivalTimestamp": 0,
            },
        }
        for number, r in enumerate(records)
    ]

    def library() -> None:
        for user in deaggregate_records(batch):
            json.loads(base64.b64decode(user["kinesis"]["data"]))

    ours = theirs = float("inf")
    for _ in range(5):
        ours = min(ours, _timed(lambda: decode_records(batch, 1_048_576)))
        theirs = min(theirs, _timed(library))
    print(
        f"KPL: {len(batch)} aggregates, 5,000 user records decoded to events: "
        f"router {ours * 1000:.1f} ms, aws-kinesis-agg {theirs * 1000:.1f} ms "
        f"(library time / router time {theirs / ours:.2f})"
    )


def bench_imports() -> None:
    print("cold import time (fresh interpreter, best of 3)")
    for module in ("router.rules", "aws_lambda_powertools.logging", "router.handler"):
        code = (
            "import time; s = time.perf_counter(); import "
            f"{module}; print(time.perf_counter() - s)"
        )
        best = min(
            float(subprocess.check_output([sys.executable, "-c", code], text=True))
            for _ in range(3)
        )
        print(f"  {module:<32} {best * 1000:7.1f} ms")


def _timed_result(action: Any, *args: Any) -> tuple[float, Any]:
    started = time.process_time()
    result = action(*args)
    return time.process_time() - started, result


def _timed(action: Any) -> float:
    started = time.process_time()
    action()
    return time.process_time() - started


def main() -> None:
    events = load_events()
    print(f"{len(events)} events from {EVENTS_PATH.name}")
    bench_matching(events)
    bench_handler(events)
    bench_deaggregation()
    bench_imports()


if __name__ == "__main__":
    main()
