"""Embedded AWS: moto in server mode, in a child process, on 127.0.0.1.

A child process rather than a thread keeps moto's work off the caller's GIL
and lets a stop be a real stop. It binds 127.0.0.1 only: moto's own default is
0.0.0.0, which would expose the embedded AWS to the network.
"""

import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3

from switchyard_local.process_group import stop_process_group

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


def local_client(service: str, endpoint_url: str) -> Any:
    """A boto3 client of the local AWS at endpoint_url, with the fake keys."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


class MotoServerError(RuntimeError):
    """The moto server could not be started or did not answer."""


# Where free_port looks first: below the kernel's ephemeral range, so an
# outgoing connection (boto3 to moto, workers to the Invoke API) cannot take
# the port between choosing it and binding it.
LOWEST_FREE_PORT = 20000
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_port_range() -> tuple[int, int]:
    """The range the kernel gives outgoing connections and port 0 binds."""
    try:
        low, high = EPHEMERAL_RANGE_FILE.read_text(encoding="ascii").split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default, and close to other systems'


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on now, and that stays free until used.

    A port from binding port 0 is one of the kernel's ephemeral ports, and
    the next outgoing connection may take it before the caller binds it (a
    server then fails with "address in use"). So the port is chosen at
    random below the ephemeral range, where only listeners live; port 0 is
    the fallback when that range is too small or full.
    """
    ephemeral_low, _ = ephemeral_port_range()
    if ephemeral_low - LOWEST_FREE_PORT >= 1000:
        chooser = random.SystemRandom()
        for _ in range(64):
            port = chooser.randrange(LOWEST_FREE_PORT, ephemeral_low)
            if _bindable(host, port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def aws_environment(endpoint_url: str | None = None) -> dict[str, str]:
    """Fake credentials and a fixed region, and the endpoint when there is one."""
    env = dict(FAKE_CREDENTIALS)
    env["AWS_DEFAULT_REGION"] = REGION
    env["AWS_REGION"] = REGION
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


class MotoServer:
    """Start, probe, reset and stop a moto server on a free loopback port."""

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_path: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self._process: subprocess.Popen[bytes] | None = None
        self._log = None

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> "MotoServer":
        """Start the server and wait until it answers."""
        # A server already on the port would answer the readiness probe and
        # pass for ours: refuse a taken port up front.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex((self.host, self.port)) == 0:
                raise MotoServerError(
                    f"port {self.port} on {self.host} is already in use; "
                    "choose another or leave port unset for a free one"
                )
        env = {**os.environ, **FAKE_CREDENTIALS, **self.extra_env}
        env.setdefault("AWS_DEFAULT_REGION", REGION)
        # The server must never call out to real AWS for anything it lacks.
        env.pop("AWS_ENDPOINT_URL", None)
        self._log = open(self.log_path or os.devnull, "ab")  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "moto.server",
                "-H",
                self.host,
                "-p",
                str(self.port),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise MotoServerError(
                    f"moto server exited with code {self._process.returncode} "
                    f"before answering on {self.endpoint_url}"
                )
            try:
                with urllib.request.urlopen(  # noqa: S310 - loopback only
                    f"{self.endpoint_url}/moto-api/data.json", timeout=1
                ):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise MotoServerError(
            f"moto server did not answer on {self.endpoint_url} within {timeout}s"
        )

    def reset(self) -> None:
        """Forget every resource: each test starts from an empty AWS."""
        request = urllib.request.Request(  # noqa: S310 - loopback only
            f"{self.endpoint_url}/moto-api/reset", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and its process group; safe to call twice."""
        process, self._process = self._process, None
        stop_process_group(process, timeout, kill_timeout=timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "MotoServer":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
