"""The endpoints of the token service, their OpenAPI descriptions and the offline ``/docs``.

Each route parses its request (:mod:`.requests`), asks the :class:`~..tokens.TokenService` and
answers JSON; the endpoint list is in docs/server.md, "Endpoints".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Security
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from swagger_ui_bundle import swagger_ui_path

from ..access_tokens import PASSWORD_GENERATION_CLAIM
from ..client_assertions import CLIENT_ASSERTION_TYPE
from ..clients import MAX_CLIENT_NAME_LENGTH
from ..config import Settings
from ..credentials import secrets_equal
from ..demo import demo_description
from ..health import RETRY_AFTER, Readiness
from ..metrics import Metrics
from ..oauth_errors import OAuthError, invalid_token
from ..registration import AUTH_METHODS, ID_TOKEN_SIGNING_ALGORITHMS, SELF_REGISTRABLE_GRANTS
from ..tokens import JWKS_MAX_AGE, TokenService
from ..users import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, userinfo_claims
from .errors import NO_STORE
from .requests import (
    FORM_MEDIA_TYPE,
    PasswordChange,
    Registration,
    bearer_token,
    client_auth,
    client_ip,
    parse_form,
    parse_json_body,
    parse_json_value,
    presented_token,
    service_of,
)

__all__ = [
    "DEMO_PATH",
    "METRICS_PATH",
    "OPENAPI_PATH",
    "USERINFO_PATH",
    "add_docs",
    "add_routes",
    "userinfo_response",
]


def _form_schema(properties: dict[str, str], required: list[str]) -> dict[str, Any]:
    """An OpenAPI request body for a form-encoded endpoint (parsed by hand, see parse_form)."""
    schema = {
        "type": "object",
        "properties": {
            name: {"type": "string", "description": text} for name, text in properties.items()
        },
        "required": required,
    }
    return {"requestBody": {"required": True, "content": {FORM_MEDIA_TYPE: {"schema": schema}}}}


def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    content = {"application/json": {"schema": model.model_json_schema()}}
    return {"requestBody": {"required": True, "content": content}}


#: The client authentication parameters of the form (RFC 6749 §2.3.1, RFC 7521 §4.2).
_CLIENT_FORM = {
    "client_id": "client_secret_post, or a public client (optional with private_key_jwt)",
    "client_secret": "client_secret_post (or use HTTP Basic)",
    "client_assertion_type": f"private_key_jwt: {CLIENT_ASSERTION_TYPE}",
    "client_assertion": "private_key_jwt: a JWT the client signed (RFC 7523 §2.2)",
}


_TOKEN_FORM = {
    **_form_schema(
        {
            "grant_type": "password, refresh_token or client_credentials",
            "username": "password grant",
            "password": "password grant",
            "refresh_token": "refresh_token grant",
            "scope": "space-separated scopes (optional)",
            **_CLIENT_FORM,
        },
        ["grant_type"],
    ),
    "parameters": [
        {
            "name": "DPoP",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "A DPoP proof (RFC 9449 §4) of POST to this endpoint: the tokens "
            "issued are bound to its key (token_type DPoP)",
        }
    ],
}


_TOKEN_FORM_WITH_HINT = _form_schema(
    {
        "token": "the token",
        "token_type_hint": "access_token or refresh_token (optional)",
        **_CLIENT_FORM,
    },
    ["token"],
)


_BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="JWT",
    description="An access token of this service (RFC 9068 JWT, RFC 6750 Bearer).",
    auto_error=False,
)


_CLAIM_TYPES = {
    "iss": "string",
    "sub": "string",
    "aud": "string",
    "exp": "integer",
    "iat": "integer",
    "jti": "string",
    "client_id": "string",
    "scope": "string",
    PASSWORD_GENERATION_CLAIM: "integer",
}


_CHALLENGE_HEADER = {
    "WWW-Authenticate": {
        "description": 'The Bearer challenge (RFC 6750 §3), e.g. `Bearer realm="jwtkit", '
        'error="invalid_token", error_description="the access token has expired"`',
        "schema": {"type": "string"},
    }
}


_ERROR_SCHEMA = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {
                "error": {"type": "string"},
                "error_description": {"type": "string"},
            },
            "required": ["error", "error_description"],
        }
    }
}


#: The profile claims of a user's token (OpenID Connect Core §5.1), by scope (§5.4).
_PROFILE_CLAIMS: dict[str, dict[str, Any]] = {
    "preferred_username": {"type": "string", "description": "scope profile: the username"},
    "name": {
        "type": "string",
        "maxLength": MAX_NAME_LENGTH,
        "description": "scope profile, when the user has a name",
    },
    "email": {
        "type": "string",
        "maxLength": MAX_EMAIL_LENGTH,
        "description": "scope email, when the user has an address",
    },
    "email_verified": {"type": "boolean", "description": "scope email, with email"},
}


_USERINFO_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The claims of the caller's access token (RFC 9068 §2.2) and the "
        "user's profile claims its scope grants (OpenID Connect Core §5.4), not cached",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        **{name: {"type": kind} for name, kind in _CLAIM_TYPES.items()},
                        **_PROFILE_CLAIMS,
                    },
                    "required": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"],
                }
            }
        },
    },
    400: {
        "description": "invalid_request: a malformed Authorization header (RFC 6750 §3.1)",
        "headers": _CHALLENGE_HEADER,
        "content": _ERROR_SCHEMA,
    },
    401: {
        "description": "no Bearer token (challenge without an error code), or invalid_token: "
        "a bad, expired or revoked token, a disabled user, a removed client (RFC 6750 §3.1)",
        "headers": _CHALLENGE_HEADER,
        "content": _ERROR_SCHEMA,
    },
    503: {
        "description": "temporarily_unavailable: the database is unavailable",
        "content": _ERROR_SCHEMA,
    },
}


def _strings(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": description}


#: ``POST /register``: the client metadata this service reads (RFC 7591 §2); others are ignored.
_CLIENT_METADATA = {
    "type": "object",
    "properties": {
        "redirect_uris": _strings("exact redirect URIs: https, http only on loopback"),
        "token_endpoint_auth_method": {
            "type": "string",
            "enum": list(AUTH_METHODS),
            "default": "client_secret_basic",
        },
        "grant_types": _strings(
            f"default authorization_code; {', '.join(SELF_REGISTRABLE_GRANTS)}"
        ),
        "response_types": _strings("only code, with authorization_code"),
        "client_name": {"type": "string", "maxLength": MAX_CLIENT_NAME_LENGTH},
        "scope": {"type": "string", "description": "within scopes_supported; default all"},
        "post_logout_redirect_uris": _strings("by the redirect URI rule"),
        "id_token_signed_response_alg": {
            "type": "string",
            "enum": list(ID_TOKEN_SIGNING_ALGORITHMS),
            "description": "among the id_token_algorithms setting; default RS256",
        },
        "jwks": {
            "type": "object",
            "description": "private_key_jwt: the JWK Set of the client's public keys",
        },
    },
    "example": {
        "client_name": "My MCP client",
        "redirect_uris": ["http://127.0.0.1:33418/callback"],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
    },
}
_REGISTER_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": _CLIENT_METADATA}}}
}
_REGISTER_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"description": "client_id, client_secret for a confidential client, the metadata"},
    400: {
        "description": "invalid_redirect_uri, invalid_client_metadata, "
        "unapproved_software_statement (RFC 7591 §3.2.2); invalid_request: malformed JSON"
    },
    401: {"description": "token mode: a missing or wrong initial access token (RFC 6750 §3.1)"},
    415: {"description": "the body is not application/json"},
    429: {"description": "too many client registrations from this address (Retry-After)"},
}


USERINFO_PATH = "/userinfo"


async def userinfo_response(
    service: TokenService, authorization: Sequence[str], dpop: Sequence[str] = ()
) -> JSONResponse:
    """``GET /userinfo``: the claims of the caller's valid access token (RFC 6750, or a
    DPoP-bound one with its proof, RFC 9449 §7), and the user's profile claims that its scope
    grants (OpenID Connect Core §5.3.2, §5.4: :func:`~..users.userinfo_claims`);
    ``authorization`` and ``dpop`` hold the request's ``Authorization`` and ``DPoP`` values.
    A token's own claims are kept as they were before the profile claims existed."""
    presented = presented_token(authorization, dpop)
    claims, user = await service.verify_presented(presented, "GET", USERINFO_PATH)
    profile = userinfo_claims(str(claims.get("scope", "")), user)
    return JSONResponse({**claims, **profile} if profile else claims, headers=NO_STORE)


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid_request (RFC 6749 §5.2)"},
    401: {"description": "invalid_client or invalid_token"},
}


METRICS_PATH = "/metrics"


_READYZ_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": '`{"status": "ready"}`'},
    503: {
        "description": '`{"status": "unavailable", "failing": ["database"]}`, with '
        f"`Retry-After: {RETRY_AFTER}`",
    },
}


_METRICS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The metrics", "content": {"text/plain": {"schema": {"type": "string"}}}},
    401: {
        "description": "with metrics_token set: a missing or wrong Bearer token",
        "headers": _CHALLENGE_HEADER,
        "content": _ERROR_SCHEMA,
    },
}


def add_routes(app: FastAPI) -> None:
    settings: Settings = app.state.settings

    @app.post("/token", openapi_extra=_TOKEN_FORM, responses=_ERRORS, tags=["oauth"])
    async def token(request: Request) -> JSONResponse:
        """The token endpoint (RFC 6749 §3.2): ``password``, ``refresh_token`` and
        ``client_credentials`` grants. Answers §5.1 or §5.2, never cached."""
        form = await parse_form(request)
        service = service_of(request)
        answer = await service.token(
            form, client_auth(request, form), client_ip(request), request.headers.getlist("dpop")
        )
        nonce = service.dpop.next_nonce()  # RFC 9449 §8.2: the nonce of the next request
        headers = NO_STORE if nonce is None else {**NO_STORE, "DPoP-Nonce": nonce}
        return JSONResponse(answer, headers=headers)

    @app.post("/revoke", openapi_extra=_TOKEN_FORM_WITH_HINT, responses=_ERRORS, tags=["oauth"])
    async def revoke(request: Request) -> Response:
        """Token revocation (RFC 7009): a refresh token revokes its whole family, an access
        token its ``jti``. Unknown tokens are answered 200 too (§2.2)."""
        form = await parse_form(request)
        service = service_of(request)
        await service.revoke(form, client_auth(request, form), client_ip(request))
        return Response(status_code=200, headers=NO_STORE)

    @app.post("/introspect", openapi_extra=_TOKEN_FORM_WITH_HINT, responses=_ERRORS, tags=["oauth"])
    async def introspect(request: Request) -> JSONResponse:
        """Token introspection (RFC 7662) for authenticated confidential clients;
        ``{"active": false}`` for any token that is not valid now."""
        form = await parse_form(request)
        service = service_of(request)
        answer = await service.introspect(form, client_auth(request, form), client_ip(request))
        return JSONResponse(answer, headers=NO_STORE)

    @app.get("/.well-known/jwks.json", tags=["discovery"])
    async def jwks(request: Request) -> JSONResponse:
        """The public signing keys (RFC 7517 §5): pending, active and recently retired."""
        document = await service_of(request).jwks()
        return JSONResponse(
            document,
            headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"},
            media_type="application/jwk-set+json",
        )

    @app.get("/.well-known/oauth-authorization-server", tags=["discovery"])
    async def metadata(request: Request) -> JSONResponse:
        """Authorization server metadata (RFC 8414 §3)."""
        return JSONResponse(service_of(request).metadata())

    @app.get("/.well-known/openid-configuration", tags=["discovery"])
    async def openid_configuration(request: Request) -> JSONResponse:
        """The same metadata at the OpenID Connect discovery path (RFC 8414 §5)."""
        return JSONResponse(service_of(request).metadata())

    @app.get(
        USERINFO_PATH,
        responses=_USERINFO_RESPONSES,
        dependencies=[Security(_BEARER)],
        tags=["resources"],
    )
    async def userinfo(request: Request) -> JSONResponse:
        """A protected resource: the claims of the caller's access token (RFC 6750), with
        the user's OpenID Connect claims by scope: `profile` gives `preferred_username` and
        `name`, `email` gives `email` and `email_verified` (Core §5.4; unset ones left out).

        The token must be valid at this service: signature, `typ: at+jwt`, issuer, audience
        and expiry (RFC 9068 §4), not revoked (RFC 7009), issued after the user's last
        password change, of an enabled user or an existing client.
        """
        return await userinfo_response(
            service_of(request),
            request.headers.getlist("authorization"),
            request.headers.getlist("dpop"),
        )

    @app.post(
        "/users",
        status_code=201,
        openapi_extra=_json_schema(Registration),
        responses={**_ERRORS, 403: {"description": "registration is disabled"}},
        tags=["users"],
    )
    async def register(request: Request) -> JSONResponse:
        """Create a user (only when registration is enabled: on in development), optionally
        with an `email` (unverified) and a `name` (OpenID Connect Core §5.1)."""
        if not settings.registration_enabled:
            raise OAuthError("access_denied", "registration is disabled on this server", 403)
        body: Registration = await parse_json_body(request, Registration)
        user = await service_of(request).users.create_user(
            body.username, body.password, client_ip(request), email=body.email, name=body.name
        )
        answer: dict[str, Any] = {
            "id": user.id,
            "username": user.username,
            "created_at": int(user.created_at),
        }
        # The profile as stored, only when given (the answer to a bare registration is as before).
        answer.update(
            {k: v for k, v in (("email", user.email), ("name", user.name)) if v is not None}
        )
        return JSONResponse(answer, status_code=201)

    if settings.client_registration_mode != "off":

        @app.post(
            "/register",
            status_code=201,
            openapi_extra=_REGISTER_BODY,
            responses=_REGISTER_RESPONSES,
            tags=["oauth"],
        )
        async def register_client(request: Request) -> JSONResponse:
            """Dynamic Client Registration (RFC 7591): register a client from its metadata;
            the answer carries its `client_id` and, for a confidential client, its
            `client_secret` (shown once). Off in production unless `client_registration` is
            set; in its `token` mode, send `Authorization: Bearer <initial access token>`."""
            service = service_of(request)
            ip = client_ip(request)
            if settings.client_registration_mode == "token":
                service.registrar.check_initial_access_token(bearer_token(request), ip)
            answer = await service.registrar.register(await parse_json_value(request), ip)
            return JSONResponse(answer, status_code=201, headers=NO_STORE)

    @app.post(
        "/users/me/password",
        openapi_extra=_json_schema(PasswordChange),
        responses=_ERRORS,
        dependencies=[Security(_BEARER)],
        tags=["users"],
    )
    async def change_password(request: Request) -> JSONResponse:
        """Change the caller's password: every refresh family of the user is revoked and
        the access tokens issued before now stop working at this service."""
        service = service_of(request)
        presented = presented_token(
            request.headers.getlist("authorization"), request.headers.getlist("dpop")
        )
        claims, _ = await service.verify_presented(presented, "POST", "/users/me/password")
        body: PasswordChange = await parse_json_body(request, PasswordChange)
        revoked = await service.users.change_password(
            claims, body.current_password, body.new_password, client_ip(request)
        )
        return JSONResponse(
            {"status": "password changed", "revoked_refresh_tokens": revoked}, headers=NO_STORE
        )

    @app.get(DEMO_PATH, tags=["discovery"])
    async def demo(request: Request) -> JSONResponse:
        """The demo client of the page's walk-through (the `demo` setting): `enabled`, and
        when it is, its client id, redirect URI, scopes and access-token lifetime, and in
        development the demo user that `jwtkit serve` created."""
        described = demo_description(settings, with_user=request.app.state.demo_user)
        return JSONResponse(described, headers=NO_STORE)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers (nothing else is asked; readiness: `/readyz`)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses=_READYZ_RESPONSES)
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the backends the service needs answer (the database). 503 with
        `Retry-After` when one does not; a load balancer sends no requests here until 200."""
        readiness: Readiness = request.app.state.readiness
        failing = await readiness.failing()
        if failing:
            return JSONResponse(
                {"status": "unavailable", "failing": failing},
                status_code=503,
                headers={**NO_STORE, "Retry-After": str(RETRY_AFTER)},
            )
        return JSONResponse({"status": "ready"}, headers=NO_STORE)

    if settings.metrics_enabled:

        @app.get(
            METRICS_PATH,
            tags=["operations"],
            response_class=Response,
            responses=_METRICS_RESPONSES,
        )
        async def metrics(request: Request) -> Response:
            """Prometheus metrics (text format, or OpenMetrics when asked for): requests,
            latency, grants, reuse, failed logins, limits, signing keys. With `metrics_token`
            set, only for `Authorization: Bearer <metrics_token>`."""
            expected = settings.metrics_token
            if expected is not None and not secrets_equal(expected, bearer_token(request)):
                raise invalid_token("the metrics token is invalid")
            await service_of(request).refresh_keys()
            collected: Metrics = request.app.state.metrics
            body, media_type = collected.exposition(request.headers.get("accept"))
            return Response(body, media_type=media_type, headers=NO_STORE)


OPENAPI_PATH = "/openapi.json"
#: What the page's walk-through needs to know of the demo client (docs/page.md, "The flow").
DEMO_PATH = "/demo"


_DOCS_PATH = "/docs"


_DOCS_ASSETS_PATH = "/docs/assets"


#: The files of the Swagger UI bundle that /docs uses, and their media types. Only these are
#: served: the bundle also holds a demo page that loads a document from the internet.
_DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def add_docs(app: FastAPI) -> None:
    """``GET /docs``: Swagger UI with its assets served from ``/docs/assets/`` (no CDN)."""
    assets = Path(swagger_ui_path)

    @app.get(_DOCS_PATH, include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + OPENAPI_PATH,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{_DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{_DOCS_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{_DOCS_ASSETS_PATH}/favicon-32x32.png",
            # No badge that would send the document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(_DOCS_ASSETS_PATH + "/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> FileResponse:
        media_type = _DOCS_ASSETS.get(name)
        if media_type is None:
            raise StarletteHTTPException(404, "Not Found")
        return FileResponse(
            assets / name, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"}
        )
