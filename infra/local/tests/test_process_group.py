"""Stopping a process group stops the child and what it spawned."""

import os
import subprocess
import sys
import time

import pytest

from switchyard_local.process_group import stop_process_group

pytestmark = pytest.mark.unit

# A parent that starts a grandchild, prints its pid, and waits.
PARENT = (
    "import subprocess, sys, time, signal\n"
    "signal.signal(signal.SIGTERM, {handler})\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(60)\n"
)


def _start(handler: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(handler=handler)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    grandchild = int(process.stdout.readline())
    return process, grandchild


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # An exited grandchild is a zombie until init reaps it.
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                if stat.read().split(") ", 1)[1].startswith("Z"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_sigterm_stops_the_child_and_its_children():
    process, grandchild = _start("signal.SIG_DFL")

    stop_process_group(process, timeout=5)
    process.stdout.close()

    assert process.returncode is not None
    assert _gone(grandchild)


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout():
    process, grandchild = _start("signal.SIG_IGN")

    stop_process_group(process, timeout=0.3, kill_timeout=5)
    process.stdout.close()

    assert process.returncode == -9
    assert _gone(grandchild)


def test_nothing_to_stop_is_not_an_error():
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()

    stop_process_group(None)
    stop_process_group(finished)  # its group is gone: no ProcessLookupError
    assert finished.returncode == 0
