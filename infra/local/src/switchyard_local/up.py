"""``make up``: the whole system on this machine, fed the GitHub events.

Starts the local stack (with the site and the console), creates a demo end
user and an operator, puts the example rules, replays the 800 events, prints
what became of them, and then keeps serving until Ctrl-C. Everything it
started stops on the way out; the next ``make up`` starts from nothing
(moto keeps its state in memory, the console's database is a new file).
"""

import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from switchyard_local.demo import Demo, load_demo_events, new_password
from switchyard_local.errors import LocalRuntimeError
from switchyard_local.stack import LocalStack, repo_root

DEMO_USER = "demo@switchyard.local"
OPERATOR = "operator@switchyard.local"


def _say(text: str = "") -> None:
    print(text, flush=True)


class _Progress:
    """One status line, rewritten in place on a terminal."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0
        self._last = 0.0

    def add(self, count: int) -> None:
        self.sent += count
        now = time.monotonic()
        if now - self._last > 0.25 or self.sent == self.total:
            self._last = now
            sys.stdout.write(f"\r  sent {self.sent}/{self.total}")
            sys.stdout.flush()


def _operator(stack: LocalStack, password: str) -> None:
    """A Cognito user in the operators group, and a console operator.

    The console account is staff with the operator role's permissions, not a
    superuser: the demo shows the permission system as production uses it.
    """
    stack.create_user(OPERATOR, password)
    stack.client("cognito-idp").admin_add_user_to_group(
        UserPoolId=stack.outputs["UserPoolId"], Username=OPERATOR, GroupName="operators"
    )
    if stack.console is not None:
        env = dict(stack.console.env)
        env["OPERATOR_PASSWORD"] = password
        stack.console.env = env
        stack.console.manage(
            "create_operator",
            "--username",
            "operator",
            "--email",
            OPERATOR,
            "--password-env",
            "OPERATOR_PASSWORD",
            "--role",
            "operator",
        )


def _endpoints(stack: LocalStack, logs: Path) -> list[tuple[str, Any]]:
    return [
        ("moto (AWS)", stack.moto_url),
        ("Lambda API", stack.lambda_url),
        ("REST API", stack.api_url),
        ("site", stack.site_url or "(site/ not found)"),
        ("console", stack.console_url or "(console/manage.py not found)"),
        ("function logs", logs),
    ]


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops ``make up`` the way Ctrl-C does."""
    raise KeyboardInterrupt


def run() -> int:
    """Run until Ctrl-C; the exit status."""
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s %(message)s"
    )
    root = repo_root()
    logs = root / ".build" / "local" / "functions.log"
    logs.parent.mkdir(parents=True, exist_ok=True)
    logs.write_text("", encoding="utf-8")

    stop = threading.Event()
    # SIGINT too: a job started in the background by a non-interactive shell
    # inherits SIGINT as ignored, and Ctrl-C (kill -INT) would do nothing.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)

    _say("Starting Switchyard locally (moto as AWS, no Docker)...")
    started = time.monotonic()
    stack = LocalStack(stage="local", console=True, site=True, log_path=logs)
    demo = Demo(stack)
    try:
        stack.start()
        steps = ", ".join(f"{k} at {v:.1f}s" for k, v in stack.timings.items())
        _say(f"Started in {stack.startup_seconds:.1f}s ({steps}).")
        for name, value in _endpoints(stack, logs):
            _say(f"  {name:14} {value}")
        for name, reason in stack.skipped.items():
            _say(f"  not running {name}: {reason}")

        user_password, operator_password = new_password(), new_password()
        tokens = stack.create_user(DEMO_USER, user_password)
        _operator(stack, operator_password)
        _say("Accounts (local only; printed because they are throwaway):")
        _say(f"  end user   {DEMO_USER} / {user_password}  (sign in on the site)")
        _say(
            f"  operator   operator / {operator_password}  "
            f"(console; Cognito: {OPERATOR})"
        )

        demo.prepare()
        _say(
            "Example rules: pushes -> DynamoDB table "
            f"{demo.table}; opened pull requests -> {demo.server.url}"
        )

        events = load_demo_events(root)
        _say(
            f"Replaying {len(events)} GitHub events "
            "(half KPL-aggregated into Kinesis, half through POST /events):"
        )
        progress = _Progress(len(events))
        replay_started = time.monotonic()
        demo.replay(events, tokens["IdToken"], progress.add)
        _say()
        waiter = threading.Thread(
            target=demo.wait, kwargs={"timeout": 300}, daemon=True
        )
        waiter.start()
        while waiter.is_alive() and not stop.is_set():
            delivered, parked = demo.counts()
            sys.stdout.write(f"\r  delivered {delivered}, parked {parked}")
            sys.stdout.flush()
            waiter.join(1.0)
        elapsed = time.monotonic() - replay_started
        _say()

        result = demo.tally()
        rate = len(events) / elapsed
        _say(f"Summary ({elapsed:.1f}s, {rate:.0f} events/s end to end):")
        for line in result.lines():
            _say("  " + line)
        _say("  numbers add up: " + ("yes" if result.adds_up else "NO"))
        if not result.clean:
            _say(
                f"  lost: {result.lost[:10]} duplicated: {result.duplicated[:10]} "
                f"unexpected: {result.unexpected[:10]}"
            )
        _say(
            f"Total since start: {time.monotonic() - started:.1f}s. "
            "Serving until Ctrl-C."
        )
        while not stop.is_set():
            stop.wait(1.0)
    except KeyboardInterrupt:
        _say()
    except LocalRuntimeError as exc:
        _say(f"error: {exc}")
        return 1
    finally:
        _say("Stopping every process...")
        demo.stop()
        stack.stop()
        _say("Stopped.")
    return 0
