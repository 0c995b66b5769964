"""Local servers get ports that stay theirs, and a taken port is an error.

CI once saw the local stack die with SystemExit: an outgoing connection had
taken the port chosen for the API gateway (an ephemeral port) before the
gateway bound it, and werkzeug answers a taken port with sys.exit(1).
"""

import socket
import urllib.request

import pytest

from switchyard_local.http_server import LoopbackServer, LoopbackServerError
from switchyard_local.moto_server import ephemeral_port_range, free_port


def _hello(environ: dict, start_response) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def test_free_ports_are_outside_the_range_outgoing_connections_use():
    low, high = ephemeral_port_range()
    if low - 20000 < 1000:
        pytest.skip(f"ephemeral range {low}-{high} leaves no room below it")
    ports = {free_port() for _ in range(50)}
    assert all(port < low for port in ports), sorted(ports)
    assert len(ports) > 40  # chosen at random, not one fixed port


def test_outgoing_connections_do_not_take_a_chosen_port():
    """Hundreds of connections after the choice; the port can still be bound."""
    port = free_port()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        target = listener.getsockname()
        clients = []
        try:
            for _ in range(300):
                client = socket.create_connection(target)
                clients.append(client)
                listener.accept()[0].close()
            local_ports = {c.getsockname()[1] for c in clients}
        finally:
            for client in clients:
                client.close()
    assert port not in local_ports
    server = LoopbackServer(_hello, "probe", port).start()
    try:
        with urllib.request.urlopen(f"{server.url}/", timeout=5) as answer:
            assert answer.read() == b"hello"
    finally:
        server.stop()


def test_a_taken_port_is_an_error_naming_the_server_not_an_exit():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(LoopbackServerError, match=f"api-gateway .*:{port}"):
            LoopbackServer(_hello, "api-gateway", port)


def test_a_stopped_server_releases_its_port():
    server = LoopbackServer(_hello, "probe").start()
    port = server.port
    server.stop()
    again = LoopbackServer(_hello, "probe", port).start()
    try:
        with urllib.request.urlopen(f"{again.url}/", timeout=5) as answer:
            assert answer.read() == b"hello"
    finally:
        again.stop()
    assert again.port == port
