"""Fixtures of the local runtime's tests: tiny functions in real workers."""

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from switchyard_local.runner import FunctionRunner
from switchyard_local.templates import FunctionSpec

SAMPLE_PACKAGE = str(Path(__file__).parent / "functions" / "sample")


class Lines:
    """A log sink that keeps every line, for assertions."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, name: str, line: str) -> None:
        self.lines.append((name, line))


@pytest.fixture
def log_lines() -> Lines:
    return Lines()


@pytest.fixture
def runner(log_lines: Lines) -> Iterator[FunctionRunner]:
    runner = FunctionRunner(log_lines, concurrency=2)
    yield runner
    runner.stop()


def _add_sample(
    runner: FunctionRunner,
    handler: str,
    moto_url: str = "http://127.0.0.1:9",
    *,
    name: str | None = None,
    timeout: int = 3,
    environment: dict[str, str] | None = None,
    lambda_url: str | None = None,
) -> FunctionSpec:
    spec = FunctionSpec(
        logical_id=handler,
        name=name or f"sample-{handler}",
        handler=f"sample_app.{handler}",
        environment=environment or {},
        timeout=timeout,
    )
    runner.add(spec, SAMPLE_PACKAGE, moto_url, lambda_url)
    return spec


@pytest.fixture
def add_sample():
    """Add one function of ``sample_app`` to a runner: ``add_sample(runner, h)``."""
    return _add_sample


@pytest.fixture
def aws_client():
    """A boto3 client factory for the moto server: ``aws_client(svc, url)``."""
    return _aws_client


def _aws_client(service: str, endpoint_url: str):
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
