"""Every API error as RFC 9457 problem details (`application/problem+json`): the pages' statuses,
EnOS's code and requestId when EnOS failed. Never HTML, never a redirect."""

import json
from http import HTTPStatus

from django.http import HttpResponse
from ninja import Schema

from firmware.failures import Failure

CONTENT_TYPE = "application/problem+json"
# A failure of EnOS is named by its kind (failures.py), e.g. urn:fwportal:problem:timeout.
TYPE_PREFIX = "urn:fwportal:problem:"


class InvalidParameter(Schema):
    parameter: str
    detail: str


class ProblemOut(Schema):
    """RFC 9457 problem details, with fwportal's members for EnOS failures and bad parameters."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    code: int | None = None  # EnOS's own code
    requestId: str | None = None  # EnOS's requestId: what EnOS support asks for
    retryAfter: int | None = None  # seconds
    errors: list[InvalidParameter] | None = None


class Problem(Exception):
    """Raised by an endpoint to answer with problem details."""

    def __init__(self, status: int, detail: str | None = None, **members: object):
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.members = members


def response(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    type: str = "about:blank",
    retry_after: int | None = None,
    **members: object,
) -> HttpResponse:
    body = {
        "type": type,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        **({"detail": detail} if detail else {}),
        **({"retryAfter": retry_after} if retry_after is not None else {}),
        **{name: value for name, value in members.items() if value is not None},
    }
    answer = HttpResponse(json.dumps(body, ensure_ascii=False), status=status)
    answer["Content-Type"] = CONTENT_TYPE
    if retry_after is not None:
        answer["Retry-After"] = str(retry_after)
    return answer


def of_failure(failure: Failure, org_name: str) -> HttpResponse:
    """An EnOS failure of the org's, as the pages show it: their status, title and advice."""
    return response(
        failure.status,
        failure.advice_for(org_name),
        title=str(failure.kind.title),
        type=TYPE_PREFIX + failure.kind.name,
        retry_after=failure.retry_after,
        code=failure.code,
        requestId=failure.request_id,
    )
