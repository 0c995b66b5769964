"""The Lambda Invoke API on 127.0.0.1, so unchanged boto3 code reaches us.

boto3 sends every Lambda call to ``AWS_ENDPOINT_URL_LAMBDA`` when it is set.
``Invoke`` is answered here, with the real API's status codes, headers and
error shapes; every other Lambda call (the control plane) is passed through to
the moto server, which stores functions and configurations well.
"""

import json
import logging
import re
import urllib.error
import urllib.request

from werkzeug.wrappers import Request, Response

from switchyard_local.async_invoke import AsyncInvoker
from switchyard_local.errors import UnknownFunction
from switchyard_local.runner import FunctionRunner
from switchyard_local.templates import lambda_arn

logger = logging.getLogger(__name__)

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding"}


def error_response(status: int, error_type: str, message: str) -> Response:
    """An error as Lambda's REST JSON protocol writes it (botocore parses it)."""
    return Response(
        json.dumps({"Type": "User", "message": message}),
        status=status,
        content_type="application/json",
        headers={"X-Amzn-ErrorType": error_type},
    )


class InvokeApi:
    """The WSGI application: Invoke here, everything else to moto."""

    def __init__(
        self,
        runner: FunctionRunner,
        invoker: AsyncInvoker,
        moto_url: str,
        async_limit: int = ASYNC_PAYLOAD_LIMIT,
        sync_limit: int = SYNC_PAYLOAD_LIMIT,
    ) -> None:
        self.runner = runner
        self.invoker = invoker
        self.moto_url = moto_url
        self.async_limit = async_limit
        self.sync_limit = sync_limit

    def __call__(self, environ, start_response):
        request = Request(environ)
        match = _INVOKE_PATH.match(request.path)
        if request.method == "POST" and match:
            response = self.invoke(request, match.group("name"))
        else:
            response = self.proxy(request)
        return response(environ, start_response)

    def invoke(self, request: Request, name: str) -> Response:
        invocation_type = request.headers.get(
            "X-Amz-Invocation-Type", "RequestResponse"
        )
        payload = request.get_data()
        try:
            function = self.runner.get(name)
        except UnknownFunction:
            return error_response(
                404,
                "ResourceNotFoundException",
                f"Function not found: {lambda_arn(name)}",
            )

        limit = self.async_limit if invocation_type == "Event" else self.sync_limit
        if len(payload) > limit:
            return error_response(
                413,
                "RequestEntityTooLargeException",
                f"Request must be smaller than {limit} bytes for the "
                "InvokeFunction operation",
            )
        if payload:
            try:
                json.loads(payload)
            except ValueError:
                return error_response(
                    400,
                    "InvalidRequestContentException",
                    "Could not parse request body into json: the payload is not "
                    "valid JSON",
                )

        if invocation_type == "DryRun":
            return Response(status=204)
        if invocation_type == "Event":
            request_id = self.invoker.submit(function.spec.name, payload or b"{}")
            return Response(status=202, headers={"X-Amzn-RequestId": request_id})
        if invocation_type != "RequestResponse":
            return error_response(
                400,
                "InvalidParameterValueException",
                f"Invocation type {invocation_type!r} is not one of "
                "RequestResponse, Event, DryRun",
            )

        result = function.invoke(payload or b"{}")
        headers = {
            "X-Amz-Executed-Version": "$LATEST",
            "X-Amzn-RequestId": result.request_id,
        }
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        return Response(
            result.payload, status=200, headers=headers, content_type="application/json"
        )

    def proxy(self, request: Request) -> Response:
        """Pass a control-plane call through to the moto server, unchanged."""
        url = self.moto_url + request.full_path.rstrip("?")
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS
        }
        upstream = urllib.request.Request(  # noqa: S310 - the loopback moto server
            url, data=request.get_data() or None, headers=headers, method=request.method
        )
        try:
            with urllib.request.urlopen(upstream, timeout=30) as answer:  # noqa: S310
                status, body, answer_headers = (
                    answer.status,
                    answer.read(),
                    answer.headers,
                )
        except urllib.error.HTTPError as exc:
            status, body, answer_headers = exc.code, exc.read(), exc.headers
        kept = [
            (k, v) for k, v in answer_headers.items() if k.lower() not in _HOP_HEADERS
        ]
        return Response(body, status=status, headers=kept)
