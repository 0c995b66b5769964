"""The worker process: one function's code, kept warm, like a Lambda sandbox.

Run as a script in isolated mode (``python -I -S worker.py ...``), so the
function sees its own package first and, after it, only the plain
site-packages of the runtime's interpreter (boto3 plays the runtime's boto3).
Editable installs of this repository are not on the path: a function that
imports something its package lacks fails here as it would on AWS.

Requests arrive as JSON lines on stdin; each answer is one JSON line on the
result file descriptor, so the function's own prints and logs stay on stdout.
This module imports nothing from the local runtime.
"""

import importlib
import json
import os
import sys
import time
import traceback


class LambdaContext:
    """The attributes and method of the Lambda context object that code reads."""

    def __init__(self, request: dict, deadline: float) -> None:
        self.function_name = request["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = request["function_arn"]
        self.memory_limit_in_mb = int(request["memory_mb"])
        self.aws_request_id = request["request_id"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load(handler: str):
    module_name, _, attribute = handler.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, attribute)


def _error(exc: BaseException, error_type: str | None = None) -> dict:
    # The first frame is this worker's call of the handler: not the user's.
    frames = exc.__traceback__.tb_next if exc.__traceback__ else None
    return {
        "ok": False,
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(frames),
    }


def main() -> None:
    package_path, runtime_path, handler_name, result_fd = sys.argv[1:5]
    sys.path[:0] = [p for p in package_path.split(os.pathsep) if p]
    sys.path.append(runtime_path)
    results = os.fdopen(int(result_fd), "w", buffering=1, encoding="utf-8")

    # Init phase, like Lambda's: import once, report a failure on each invoke.
    try:
        function = _load(handler_name)
        init_error = None
    except Exception as exc:
        function = None
        init_error = _error(exc, "Runtime.ImportModuleError")
        traceback.print_exc()
    sys.stdout.flush()
    # The Init phase is over: the runner starts the invocation's clock now,
    # as Lambda keeps Init apart from the function timeout.
    results.write(json.dumps({"ready": True}) + "\n")

    for line in sys.stdin:
        request = json.loads(line)
        started = time.monotonic()
        deadline = started + float(request["timeout_s"])
        os.environ["_X_AMZN_TRACE_ID"] = request.get("trace_id", "")
        if init_error is not None:
            answer = init_error
        else:
            print(
                f"START RequestId: {request['request_id']} Version: $LATEST",
                flush=True,
            )
            try:
                event = json.loads(request["payload"] or "null")
                result = function(event, LambdaContext(request, deadline))
                answer = {"ok": True, "payload": json.dumps(result)}
            except Exception as exc:
                answer = _error(exc)
                traceback.print_exc()
            elapsed_ms = (time.monotonic() - started) * 1000
            print(
                f"END RequestId: {request['request_id']} Duration: {elapsed_ms:.2f} ms",
                flush=True,
            )
        sys.stdout.flush()
        sys.stderr.flush()
        results.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
