"""Start the operators' console (Django) against the local stack.

``manage.py migrate`` on a fresh SQLite file in the stack's work directory,
then ``runserver`` on 127.0.0.1, in its own process group so that a stop
stops Django's children too.
"""

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from switchyard_local.errors import StackError
from switchyard_local.process_group import stop_process_group


class ConsoleProcess:
    """The console's ``runserver`` on one loopback port."""

    def __init__(self, manage_py: Path, port: int, env: dict[str, str], log_path: Path):
        self.manage_py = manage_py
        self.port = port
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, timeout: float = 120) -> None:
        """Run one management command to completion; raise on failure."""
        result = subprocess.run(
            [sys.executable, str(self.manage_py), *args],
            env=self.env,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(
                f"console: manage.py {' '.join(args[:1])} failed: "
                f"{result.stderr.decode(errors='replace')[-2000:]}"
            )

    def start(self, timeout: float = 30, migrate: bool = True) -> "ConsoleProcess":
        if migrate:
            self.manage("migrate", "--noinput")
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(self.manage_py),
                "runserver",
                f"127.0.0.1:{self.port}",
                "--noreload",
            ],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StackError(
                    f"console exited with {self.process.returncode}; "
                    f"see {self.log_path}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=1):  # noqa: S310
                    return self
            except urllib.error.HTTPError:
                return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise StackError(f"console did not answer on {self.url} within {timeout}s")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process_group(process, timeout=10, kill_timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None
