"""Pytest fixtures for every package: fake AWS, in-process or as a server.

- ``aws_env``: fake credentials and a fixed region in the environment.
- ``mock_aws_inprocess``: moto's ``mock_aws`` around the test.
- ``moto_server``: one moto server for the whole session, on 127.0.0.1.
- ``aws_server``: that server, reset before the test, with
  ``AWS_ENDPOINT_URL`` pointing at it; yields its endpoint URL.
"""

from collections.abc import Iterator

import pytest

from switchyard_local.moto_server import REGION, MotoServer, aws_environment


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fake credentials and a fixed region; no real AWS can be reached."""
    env = aws_environment()
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    return env


@pytest.fixture
def mock_aws_inprocess(aws_env: dict[str, str]) -> Iterator[None]:
    """moto's in-process mock for the length of one test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server on a free loopback port for the whole session."""
    server = MotoServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws_server(
    moto_server: MotoServer, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> str:
    """The session's moto server, emptied, as every client's endpoint."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    return moto_server.endpoint_url


@pytest.fixture
def aws_region() -> str:
    return REGION
