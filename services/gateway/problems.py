"""Every refusal as an RFC 9457 problem document: a stable type, a title, what went wrong, and each wrong field."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import asyncpg
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from contracts.rejections import DESCRIPTIONS, Reason, Rejected
from runtime.logging import get_logger

MEDIA_TYPE: Final = "application/problem+json"
TYPE_PREFIX: Final = "urn:levehelelivet:problem:"


class FieldProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str = Field(description="Where: a field path such as `data.held_on`, or `the event` for the whole.")
    detail: str = Field(description="What is wrong there and what is expected, in words.")
    index: int | None = Field(default=None, description="In a batch: the position of the event (from 0).")


class ProblemDocument(BaseModel):
    """RFC 9457's members, and `reason` (the dead letters' reason code) and `errors` (one per wrong field)."""

    model_config = ConfigDict(frozen=True)

    type: str = Field(description="A URN naming the kind of problem; stable, for a program to branch on.")
    title: str = Field(description="The kind of problem in words; the same for every instance of the type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request.")
    instance: str | None = Field(default=None, description="The request path.")
    reason: str | None = Field(default=None, description="The rejection's reason code, as in the dead letters.")
    errors: tuple[FieldProblem, ...] = Field(default=(), description="Each wrong field and why.")


class Problem(Exception):
    """Raised anywhere in a request: answered as a problem document with this status."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        *,
        reason: str | None = None,
        errors: Sequence[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.reason = reason
        self.errors = tuple(errors)
        self.headers = dict(headers or {})

    def document(self, instance: str | None) -> ProblemDocument:
        return ProblemDocument(
            type=TYPE_PREFIX + self.kind,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            reason=self.reason,
            errors=self.errors,
        )


def field_problems(message: str, index: int | None = None) -> list[FieldProblem]:
    """A rejection's message, which `contracts.problems` writes as `field: why` sentences joined by `; `, as one
    entry per field."""
    found = []
    for sentence in _NEXT_FIELD.split(message):
        where, separator, why = sentence.partition(": ")
        if not separator or (" " in where.strip() and where != _WHOLE):
            where, why = _WHOLE, sentence
        found.append(FieldProblem(field=where, detail=why, index=index))
    return found


_WHOLE: Final = "the event"
_NEXT_FIELD: Final = re.compile(r"; (?=(?:the event|[A-Za-z0-9_.\-]+): )")
"""Where one field's sentence ends and the next begins: a sentence may itself hold `; ` (`missing; this field is
required`), but the next one starts with a field path and a colon."""


def rejected(rejections: Sequence[tuple[int | None, Rejected]]) -> Problem:
    """One 400 for every event of a request that the contract refuses, each wrong field named."""
    reasons = sorted({r.reason for _, r in rejections})
    errors = [problem for index, r in rejections for problem in field_problems(r.message, index)]
    first = rejections[0][1]
    detail = (
        DESCRIPTIONS[first.reason]
        if len(rejections) == 1
        else f"{len(rejections)} events of the batch are refused; nothing of it was published"
    )
    return Problem(
        400,
        reasons[0].value if len(reasons) == 1 else "invalid_events",
        "The event does not meet the contract" if len(reasons) == 1 else "Events of the batch do not meet the contract",
        detail,
        reason=reasons[0].value if len(reasons) == 1 else None,
        errors=errors,
    )


def forbidden(detail: str, errors: Sequence[FieldProblem] = ()) -> Problem:
    return Problem(
        403,
        Reason.UNAUTHORISED_SOURCE.value,
        "The caller may not send this",
        detail,
        reason="unauthorised_source",
        errors=errors,
    )


def respond(problem: Problem, request: Request) -> JSONResponse:
    document = problem.document(request.url.path).model_dump(mode="json", exclude_none=True)
    if not document.get("errors"):
        document.pop("errors", None)
    return JSONResponse(document, status_code=problem.status, media_type=MEDIA_TYPE, headers=problem.headers)


async def handle(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Problem)
    return respond(error, request)


async def handle_unexpected(request: Request, error: Exception) -> JSONResponse:
    """A failure of ours is a problem document too, and logged with its stack; the caller may retry."""
    get_logger(component="http").error("request_failed", path=request.url.path, exc_info=error)
    if isinstance(error, asyncpg.InsufficientPrivilegeError | asyncpg.UndefinedTableError):
        problem = Problem(
            503,
            "audit_trail_unavailable",
            "The audit trail cannot be read yet",
            "the audit service has not yet granted the gateway its read access (it does at its start); retry later",
            headers={"Retry-After": "5"},
        )
    else:
        problem = Problem(500, "internal_error", "The gateway failed", "an error of ours, logged; retry the request")
    return respond(problem, request)


def response_schema(description: str) -> dict[str, Any]:
    """For the OpenAPI document: a response that is a problem document."""
    return {"description": description, "content": {MEDIA_TYPE: {"schema": ProblemDocument.model_json_schema()}}}
