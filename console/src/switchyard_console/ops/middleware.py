"""The last line of defence: console errors become admin messages.

Views handle the errors they expect and keep the operator's input; whatever
escapes them (a throttled call, a denied action, a missing bucket) is shown
here, in the admin's look, instead of a Django error page.
"""

import logging
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from dlq_processor.errors import DlqError
from router.errors import RouterError
from switchyard_console.ops import aws
from switchyard_console.ops.errors import ConsoleError

logger = logging.getLogger(__name__)


class AwsErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if isinstance(exception, ClientError | BotoCoreError):
            exception = aws.translate(exception, "a call", request.path)
        if not isinstance(exception, ConsoleError | DlqError | RouterError):
            return None
        logger.warning("console error on %s: %s", request.path, exception)
        messages.error(request, _message(exception))
        context = {**admin.site.each_context(request), "title": "Something failed"}
        response = TemplateResponse(request, "console/error.html", context, status=503)
        return response.render()


def _message(exception: Exception) -> str:
    """The error, with what to do when an AWS error lies under another package's."""
    text = str(exception)
    cause = exception.__cause__
    if not isinstance(exception, ConsoleError) and isinstance(
        cause, ClientError | BotoCoreError
    ):
        text = f"{text}. {aws.translate(cause, 'a call', '').hint}"
    return text
