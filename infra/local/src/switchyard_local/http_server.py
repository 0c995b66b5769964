"""A WSGI application served on a loopback port from a background thread."""

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from switchyard_local.moto_server import free_port


class LoopbackServerError(OSError):
    """A local server could not listen on its port."""


class _QuietHandler(WSGIRequestHandler):
    """Request lines go to the debug log, not to the terminal."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logging.getLogger("switchyard_local.http").debug(
            "%s %s %s", self.command, self.path, code
        )


class LoopbackServer:
    """Serve ``app`` on 127.0.0.1 (a free port unless given) until stopped."""

    def __init__(
        self, app: Callable[..., Any], name: str, port: int | None = None
    ) -> None:
        self.name = name
        self.port = port or free_port()
        # Bound here rather than by werkzeug, which answers a taken port with
        # sys.exit(1): a caller gets an error it can catch, naming the server.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(128)
        except OSError as exc:
            listener.close()
            raise LoopbackServerError(
                f"{name} cannot listen on 127.0.0.1:{self.port}: {exc.strerror}"
            ) from exc
        with listener:
            # werkzeug serves a duplicate of the descriptor.
            self._server: BaseWSGIServer = make_server(
                "127.0.0.1",
                self.port,
                app,
                threaded=True,
                request_handler=_QuietHandler,
                fd=listener.fileno(),
            )
        # A short poll interval keeps stop() quick; the cost is negligible.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=name,
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
