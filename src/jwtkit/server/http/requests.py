"""Request parsing and limits: form and JSON bodies, client credentials, the access token.

JSON bodies are ``application/json`` in UTF-8 only (415 otherwise): read into a pydantic model
(:func:`parse_json_body`) or, for client metadata whose unknown members are ignored
(RFC 7591 §2), into a plain JSON value (:func:`parse_json_value`).

Every parser answers a malformed request with an :class:`~jwtkit.server.oauth_errors.OAuthError`
(400, RFC 6749 §5.2); ``Authorization`` is read by :mod:`jwtkit._oauth`, the code the
integrations use (one field, RFC 6750 §3.1; ``Bearer`` and one ``b64token``, §2.1). The
service's own resources also take ``Authorization: DPoP`` (RFC 9449 §7.1):
:func:`presented_token` reads either scheme, with the request's ``DPoP`` headers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ... import _oauth
from ..client_assertions import CLIENT_ASSERTION_TYPE
from ..credentials import ClientAuth, parse_basic_authorization
from ..dpop_proofs import Presented, dpop_challenge, resource_challenge
from ..oauth_errors import OAuthError, bearer_challenge, invalid_client
from ..tokens import TokenService

__all__ = [
    "FORM_MEDIA_TYPE",
    "BodyTooLarge",
    "PasswordChange",
    "Registration",
    "bearer_token",
    "bearer_token_of",
    "client_auth",
    "client_ip",
    "json_text",
    "parse_form",
    "parse_json_body",
    "parse_json_value",
    "presented_token",
    "service_of",
    "validation_summary",
]


FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


_MAX_FIELDS = 32


class BodyTooLarge(Exception):
    """The request body exceeds ``max_body_bytes`` (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body exceeds {limit} bytes")
        self.limit = limit


class Registration(BaseModel):
    """``POST /users``."""

    model_config = ConfigDict(extra="forbid", strict=True)
    username: str = Field(min_length=1, max_length=64, examples=["alice"])
    password: str = Field(min_length=1, max_length=1024, examples=["correct horse battery"])
    #: Checked by :func:`~..users.check_profile` (also for the admin commands): the bounds here
    #: only stop an oversized value before it is looked at.
    email: str | None = Field(default=None, max_length=254, examples=["alice@example.com"])
    name: str | None = Field(default=None, max_length=200, examples=["Alice Smith"])


class PasswordChange(BaseModel):
    """``POST /users/me/password``."""

    model_config = ConfigDict(extra="forbid", strict=True)
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


def _media_type(request: Request) -> tuple[str, dict[str, str]]:
    value = request.headers.get("content-type", "")
    media, *parameters = value.split(";")
    params = {}
    for parameter in parameters:
        name, _, text = parameter.strip().partition("=")
        params[name.strip().lower()] = text.strip().strip('"').lower()
    return media.strip().lower(), params


def _decode_body(body: bytes, params: Mapping[str, str]) -> str:
    charset = params.get("charset", "utf-8")
    if charset not in {"utf-8", "utf8", "us-ascii"}:
        raise OAuthError("invalid_request", "the request body must be UTF-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the request body is not valid UTF-8") from None


async def parse_form(request: Request) -> dict[str, str]:
    """The parameters of a form-encoded OAuth request (RFC 6749 §3.2).

    Parameters without a value are treated as omitted (§3.1); a parameter given twice is an
    error (§3.2); anything that is not ``application/x-www-form-urlencoded`` UTF-8 is refused.
    """
    media, params = _media_type(request)
    if media != FORM_MEDIA_TYPE:
        raise OAuthError(
            "invalid_request", f"the request body must be {FORM_MEDIA_TYPE} (RFC 6749 §3.2)", 400
        )
    text = _decode_body(await request.body(), params)
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            errors="strict",
            max_num_fields=_MAX_FIELDS,
        )
    except ValueError:
        raise OAuthError("invalid_request", "the form body is malformed") from None
    form: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name in seen:
            raise OAuthError(
                "invalid_request", f"parameter {name[:40]!r} is repeated (RFC 6749 §3.2)"
            )
        seen.add(name)
        if value:
            form[name] = value
    return form


async def json_text(request: Request) -> str:
    """The text of an ``application/json`` body (415 for another media type), decoded by its
    charset (UTF-8 by default)."""
    media, params = _media_type(request)
    if media != "application/json":
        raise OAuthError("invalid_request", "the request body must be application/json", 415)
    return _decode_body(await request.body(), params)


async def parse_json_body(request: Request, model: type[BaseModel]) -> Any:
    text = await json_text(request)
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise OAuthError("invalid_request", validation_summary(exc.errors())) from None


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("a member is repeated")
    return document


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def parse_json_value(request: Request) -> Any:
    """The JSON value of an ``application/json`` body (RFC 8259), parsed strictly: malformed
    JSON, a member repeated in an object (which value counts is not defined, §4), ``NaN`` or
    ``Infinity``, or nesting too deep to parse are a 400 ``invalid_request``."""
    text = await json_text(request)
    try:
        return json.loads(text, object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise OAuthError(
            "invalid_request", "the request body must be one JSON value without repeated members"
        ) from None


def validation_summary(errors: Any) -> str:
    """One line from pydantic/FastAPI errors: where and what, never the input value."""
    parts = []
    for error in list(errors)[:3]:
        location = ".".join(str(item) for item in error.get("loc", ()) if item != "body")
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _authorization(request: Request) -> str | None:
    """The request's one ``Authorization`` value; several are a 400 (RFC 6750 §3.1)."""
    return _single_authorization(request.headers.getlist("authorization"))


def _single_authorization(values: Sequence[str]) -> str | None:
    try:
        return _oauth.single_authorization(values)
    except _oauth.MalformedAuthorization as exc:
        raise _malformed_authorization(exc.description) from None


def _malformed_authorization(description: str) -> OAuthError:
    """400 ``invalid_request`` with its Bearer challenge (RFC 6750 §3.1)."""
    return OAuthError(
        "invalid_request",
        description,
        400,
        {"WWW-Authenticate": bearer_challenge("invalid_request", description)},
    )


def client_auth(request: Request, form: Mapping[str, str]) -> ClientAuth:
    """The client credentials of a request: HTTP Basic or the form (RFC 6749 §2.3.1), or a
    client assertion (RFC 7521 §4.2, RFC 7523 §2.2): one method only (RFC 6749 §2.3)."""
    header = _authorization(request)
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if "client_assertion" in form or "client_assertion_type" in form:
        return _assertion_auth(form, form_id, several=header is not None or form_secret is not None)
    if header is not None:
        if form_secret is not None:
            raise OAuthError(
                "invalid_request", "use one client authentication method only (RFC 6749 §2.3)"
            )
        client_id, secret = parse_basic_authorization(header)
        if form_id is not None and form_id != client_id:
            raise OAuthError("invalid_request", "client_id differs from the Basic credentials")
        return ClientAuth(client_id, secret, "client_secret_basic")
    if form_secret is not None:
        return ClientAuth(form_id, form_secret, "client_secret_post")
    return ClientAuth(form_id, None, "none")


def _assertion_auth(form: Mapping[str, str], client_id: str | None, *, several: bool) -> ClientAuth:
    """A client assertion (RFC 7521 §4.2): both parameters, the one type this service knows.

    An unknown ``client_assertion_type`` is ``invalid_client``: the request is well formed, but
    names a client authentication method this server does not support (RFC 6749 §5.2 lists
    "unsupported authentication method" under ``invalid_client``; RFC 7521 §4.2.1 answers
    every assertion that does not authenticate the client with it). A missing parameter is a
    malformed request, ``invalid_request``, and so is a second method beside it (Basic, or a
    ``client_secret``: RFC 6749 §2.3 "MUST NOT use more than one authentication method")."""
    if several:
        raise OAuthError(
            "invalid_request",
            "use one client authentication method only (RFC 6749 §2.3): a client assertion"
            " goes without Basic credentials and without client_secret",
        )
    assertion_type, assertion = form.get("client_assertion_type"), form.get("client_assertion")
    if assertion_type is None or assertion is None:
        raise OAuthError(
            "invalid_request",
            "client_assertion and client_assertion_type go together (RFC 7521 §4.2)",
        )
    if assertion_type != CLIENT_ASSERTION_TYPE:
        raise invalid_client(f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}")
    return ClientAuth(client_id, None, "private_key_jwt", client_assertion=assertion)


def bearer_token(request: Request) -> str:
    """The access token of ``Authorization: Bearer`` (RFC 6750 §2.1), or a 401/400."""
    return bearer_token_of(request.headers.getlist("authorization"))


def bearer_token_of(values: Sequence[str]) -> str:
    """The access token of a request's ``Authorization`` values, or a 401/400: decided by
    :mod:`jwtkit._oauth`, as the integrations decide (RFC 6750 §2.1, §3.1)."""
    try:
        token = _oauth.parse_bearer(_oauth.single_authorization(values))
    except _oauth.MalformedAuthorization as exc:
        raise _malformed_authorization(exc.description) from None
    if token is None:
        # RFC 6750 §3.1: no error code when the request carries no Bearer credentials.
        raise OAuthError(
            "invalid_request", _oauth.MISSING_TOKEN, 401, {"WWW-Authenticate": bearer_challenge()}
        )
    return token


#: 401 without an error code: a request to a resource of the service without credentials.
MISSING_CREDENTIALS = (
    "an access token is required: Authorization: Bearer <token>, or Authorization: DPoP <token>"
    " with a DPoP proof"
)


def presented_token(authorization: Sequence[str], dpop: Sequence[str]) -> Presented:
    """The access token of a request to one of the service's own resources, from its
    ``Authorization`` values: ``Bearer`` (RFC 6750 §2.1) or ``DPoP`` (RFC 9449 §7.1), with the
    request's ``DPoP`` header values (``dpop``); a 401 without credentials (both challenges,
    no error code), a 400 for malformed ones (RFC 6750 §3.1)."""
    try:
        credentials = _oauth.parse_credentials(_oauth.single_authorization(authorization))
    except _oauth.MalformedAuthorization as exc:
        if exc.description != _oauth.MALFORMED_DPOP_AUTHORIZATION:
            raise _malformed_authorization(exc.description) from None
        challenge = dpop_challenge("invalid_request", exc.description)
        raise OAuthError(
            "invalid_request", exc.description, 400, {"WWW-Authenticate": challenge}
        ) from None
    if credentials is None:
        raise OAuthError(
            "invalid_request", MISSING_CREDENTIALS, 401, {"WWW-Authenticate": resource_challenge()}
        )
    scheme, token = credentials
    return Presented(token, "DPoP" if scheme == _oauth.DPOP else "Bearer", tuple(dpop))


def client_ip(request: Request) -> str:
    """The socket's peer address (uvicorn rewrites it from trusted proxies only)."""
    return request.client.host if request.client is not None else "unknown"


def service_of(request: Request) -> TokenService:
    service: TokenService = request.app.state.service
    return service
