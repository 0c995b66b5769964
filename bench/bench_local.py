"""The local system: startup time and end-to-end events per second.

End to end means from the first event sent (half KPL-aggregated straight
into Kinesis, half through ``POST /events``) until the last one is delivered
or parked. moto's own Kinesis is a known ceiling: its PutRecords costs
O(stream length) per record, and one moto process serves every AWS call of
every function. The bench measures that ceiling on the same machine (bare
PutRecords of the same events into a fresh stream) and prints both.
"""

import json
import tempfile
import time
from pathlib import Path

from switchyard_local.accounting import expected_routed
from switchyard_local.demo import Demo, load_demo_events
from switchyard_local.stack import LocalStack, repo_root


def _moto_put_records_rate(stack: LocalStack, events: list[dict]) -> float:
    """Records per second moto's PutRecords takes on a fresh stream."""
    kinesis = stack.client("kinesis")
    kinesis.create_stream(StreamName="bench-ceiling", ShardCount=1)
    started = time.perf_counter()
    for start in range(0, len(events), 100):
        chunk = events[start : start + 100]
        kinesis.put_records(
            StreamName="bench-ceiling",
            Records=[
                {"Data": json.dumps(e).encode(), "PartitionKey": str(e["id"])}
                for e in chunk
            ],
        )
    return len(events) / (time.perf_counter() - started)


def _moto_put_record_rate(stack: LocalStack, events: list[dict]) -> float:
    """Single PutRecord calls per second (what each POST /events costs)."""
    kinesis = stack.client("kinesis")
    kinesis.create_stream(StreamName="bench-single", ShardCount=1)
    sample = events[:200]
    started = time.perf_counter()
    for event in sample:
        kinesis.put_record(
            StreamName="bench-single",
            Data=json.dumps(event).encode(),
            PartitionKey=str(event["id"]),
        )
    return len(sample) / (time.perf_counter() - started)


def main() -> None:
    root = repo_root()
    events = load_demo_events(root)
    logs = Path(tempfile.mkdtemp(prefix="bench-local-")) / "functions.log"

    started = time.perf_counter()
    with LocalStack(stage="bench", site=True, console=False, log_path=logs) as stack:
        wall_startup = time.perf_counter() - started
        print(f"startup: {stack.startup_seconds:.1f}s ({wall_startup:.1f}s wall)")
        print(
            "  steps done at: "
            + ", ".join(f"{step} {at:.1f}s" for step, at in stack.timings.items())
        )

        demo = Demo(stack)
        demo.prepare()
        try:
            token = stack.create_user("bench@example.com", "Passw0rd-b1")["IdToken"]
            expected = len(expected_routed(demo.rules, events))
            replay_started = time.perf_counter()
            demo.replay(events, token)
            sent_at = time.perf_counter()
            delivered = parked = 0
            while time.perf_counter() - replay_started < 300:
                delivered, parked = demo.counts()
                if delivered + parked >= expected:
                    break
                time.sleep(0.2)
            finished = time.perf_counter()
            demo.wait(timeout=60)
            result = demo.tally()
        finally:
            demo.stop()

        elapsed = finished - replay_started
        rate = len(events) / elapsed
        ceiling = _moto_put_records_rate(stack, events)
        single = _moto_put_record_rate(stack, events)
        print(
            f"replay: {len(events)} events sent in {sent_at - replay_started:.1f}s, "
            f"all delivered or parked after {elapsed:.1f}s"
        )
        print(f"end to end: {rate:.0f} events/s")
        print(
            f"moto Kinesis ceiling (bare PutRecords, fresh stream): {ceiling:.0f} "
            f"records/s; end to end is {rate / ceiling:.2f}x of it"
        )
        print(
            f"moto single PutRecord (each POST /events): {single:.0f} calls/s; "
            f"sending half the events that way alone takes "
            f"{len(events) / 2 / single:.1f}s"
        )
        print(
            "summary: "
            + ", ".join(
                line.split()[0] + "=" + line.split()[1] for line in result.lines()
            )
        )
        print(
            "note: moto is the ceiling here (PutRecords is O(stream length) and one "
            "moto process serves every call); load belongs to AWS."
        )


if __name__ == "__main__":
    main()
