"""The Lambda entry point behind ``/user``: event in, response out.

A small dispatcher rather than Powertools' APIGatewayRestResolver: the API
has one path, and its rules (exact-number JSON, 415 before parsing, 413,
If-Match, errors that list every problem, CORS for configured origins only)
would each need overriding there. The module imports no boto3 at load time;
the DynamoDB client is made on the first request and reused while warm.
"""

import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from user_api import apigw
from user_api.attributes import MAX_PROBLEMS, attribute_problems, is_attribute_name
from user_api.claims import caller_from_claims
from user_api.config import Settings, service_name
from user_api.errors import (
    MethodNotAllowedError,
    Problem,
    RequestError,
    StoreBusyError,
    ValidationFailedError,
)
from user_api.preconditions import etag_for, parse_if_match
from user_api.profiles import Profile, Profiles
from user_api.store import UsersTable

logger = Logger(service=service_name())

_state: dict[str, Any] = {"cold": True}


def _profiles(settings: Settings) -> Profiles:
    """One Profiles per warm container, rebuilt if the settings change."""
    cached = _state.get("profiles")
    if cached is None or _state.get("settings") != settings:
        cached = Profiles(
            UsersTable(settings.users_table), max_item_bytes=settings.max_item_bytes
        )
        _state["profiles"] = cached
        _state["settings"] = settings
    return cached


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Answer one API Gateway REST API proxy event."""
    started = time.perf_counter()
    cold_start, _state["cold"] = _state["cold"], False
    function_request_id = getattr(context, "aws_request_id", None)
    request = apigw.Request(method="")
    request_id = function_request_id
    logger.clear_state()
    logger.append_keys(function_request_id=function_request_id, cold_start=cold_start)

    settings: Settings | None = None
    try:
        request = apigw.parse_event(event)
        request_id = request.request_id or function_request_id
        logger.append_keys(request_id=request_id)
        logger.set_correlation_id(request_id)
        settings = Settings.from_env()
        result = _dispatch(request, settings)
    except RequestError as exc:
        logger.warning(
            "request refused",
            extra={
                "status": exc.status,
                "code": exc.code,
                "attributes": _attribute_names(exc.problems),
                "invalid_names": _invalid_name_count(exc.problems),
                "problem_codes": sorted({problem.code for problem in exc.problems}),
            },
        )
        result = _error(exc.status, exc.code, exc.message, request_id, exc.problems)
        result["headers"].update(exc.headers)
    except StoreBusyError:
        logger.warning("users table throttled", exc_info=True)
        result = _error(
            503,
            "service_busy",
            "the profile store is busy; retry in a moment",
            request_id,
        )
        result["headers"]["Retry-After"] = "1"
    except Exception:
        logger.exception("request failed: fault in user-api")
        result = _error(
            500,
            "internal_error",
            "something went wrong on our side; nothing may have changed. "
            f"Quote request id {request_id} if you report it",
            request_id,
        )

    if settings is not None:
        result["headers"].update(
            apigw.cors_headers(
                request.header("origin"),
                settings.cors_allowed_origins,
                preflight=request.method == "OPTIONS",
            )
        )
    logger.info(
        "request handled",
        extra={
            "method": request.method,
            "status": result["statusCode"],
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return result


def _dispatch(request: apigw.Request, settings: Settings) -> dict[str, Any]:
    method = request.method
    if method == "OPTIONS":
        # Preflight requests carry no token: API Gateway lets them through
        # unauthenticated, and they touch no data.
        return apigw.response(204, headers={"Allow": ", ".join(apigw.METHODS)})
    if method not in apigw.METHODS:
        raise MethodNotAllowedError(
            f"{method or 'an empty method'} is not supported on /user; "
            f"use one of {', '.join(apigw.METHODS)}",
            headers={"Allow": ", ".join(apigw.METHODS)},
        )

    caller = caller_from_claims(request.claims)
    profiles = _profiles(settings)

    if method == "GET":
        return _profile_response(200, profiles.get(caller))

    if_match = parse_if_match(request.header("if-match"))
    if method == "DELETE":
        profiles.delete(caller, if_match)
        return apigw.response(204)

    document = request.json_body(settings.max_body_bytes)
    problems = attribute_problems(document, removals_allowed=method == "PATCH")
    if problems:
        raise ValidationFailedError(
            f"{len(problems)} problem(s) in the request body; see 'problems'",
            problems=tuple(problems[:MAX_PROBLEMS]),
        )

    if method == "POST":
        return _profile_response(201, profiles.create(caller, document, if_match))
    if method == "PUT":
        profile = profiles.replace(caller, document, if_match)
        return _profile_response(201 if profile.created else 200, profile)
    return _profile_response(200, profiles.patch(caller, document, if_match))


def _attribute_names(problems: tuple[Problem, ...]) -> list[str]:
    """The valid top-level names the problems are about.

    Deeper keys and names that break the name rules may be the caller's
    data (``{"my pin is 1234": 1}``): the first are left out, the second
    only counted (``_invalid_name_count``).
    """
    names = {
        name
        for problem in problems
        if problem.field
        and (name := problem.field.split("/")[1])
        and is_attribute_name(name)
    }
    return sorted(names)[:MAX_PROBLEMS]


def _invalid_name_count(problems: tuple[Problem, ...]) -> int:
    return sum(problem.code == "invalid_attribute_name" for problem in problems)


def _profile_response(status: int, profile: Profile) -> dict[str, Any]:
    return apigw.response(
        status, profile.attributes, headers={"ETag": etag_for(profile.version)}
    )


def _error(
    status: int,
    code: str,
    message: str,
    request_id: str | None,
    problems: tuple[Problem, ...] = (),
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if problems:
        error["problems"] = [problem.as_json() for problem in problems]
    return apigw.response(status, {"error": error})
