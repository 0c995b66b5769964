"""Stop a child started in its own process group, children included.

The local runtime starts moto and the console with ``start_new_session``, so
a signal to the group reaches whatever they spawned (Django's runserver has
its own children). A stop asks first (SIGTERM) and insists after a while
(SIGKILL).
"""

import contextlib
import os
import signal
import subprocess
from typing import Any


def stop_process_group(
    process: subprocess.Popen[Any] | None,
    timeout: float = 10.0,
    kill_timeout: float = 5.0,
) -> None:
    """SIGTERM the process's group; SIGKILL it if still running after timeout.

    Does nothing when there is no process or it has already exited.
    """
    if process is None or process.poll() is not None:
        return
    # The group may be gone between poll() and the signal.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(kill_timeout)
