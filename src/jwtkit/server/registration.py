"""Dynamic Client Registration (RFC 7591), framework-free: :class:`ClientRegistrar`.

``POST /register`` takes a JSON object of client metadata (RFC 7591 §2, §3.1) and answers 201
with the client's id, its secret if it has one, and the metadata as registered (§3.2.1), or 400
with ``invalid_redirect_uri``, ``invalid_client_metadata`` or
``unapproved_software_statement`` (§3.2.2). The MCP authorization specification expects it, so
that a client meets the server for the first time without an administrator.

What a client may register is decided by the rules :mod:`~.clients` holds for every client
(``jwtkit clients add`` too), narrowed for clients nobody has vetted:

* ``redirect_uris``: the redirect URI rule of OAuth 2.1 §2.3.1 and RFC 9700 §2.1, §4.1.3
  (exact URIs, ``https``, ``http`` only on loopback, RFC 8252 for native apps; no fragment, no
  wildcard): :func:`~.clients.check_registration`. ``post_logout_redirect_uris`` by the same
  rule.
* ``token_endpoint_auth_method`` (default ``client_secret_basic``, §2): ``none`` registers a
  public client; ``client_secret_basic`` and ``client_secret_post`` a confidential one with a
  generated secret (256 random bits, stored as SHA-256, shown once; it does not expire).
  ``private_key_jwt`` one that authenticates with its keys, given as ``jwks`` (a JWK Set of
  public keys; ``jwks_uri`` is not supported).
* ``grant_types`` (default ``authorization_code``): ``authorization_code``, ``refresh_token``
  (with ``authorization_code``: no other registrable grant issues refresh tokens) and
  ``client_credentials`` (confidential clients); never ``password`` (RFC 9700 §2.4).
* ``response_types``: only ``code``, exactly when ``authorization_code`` is registered
  (§2.1); omitted, it follows the grants.
* ``scope``: within the scopes the service offers (:func:`~.scopes.offered_scopes`, the
  metadata's ``scopes_supported``); omitted, all of them.
* ``client_name``: :func:`~.clients.check_client_name`.
* ``id_token_signed_response_alg`` (OpenID Connect Dynamic Client Registration §2): one of the
  algorithms the service signs ID tokens with (the ``id_token_algorithms`` setting).
* ``contacts``, ``client_uri``, ``logo_uri``, ``tos_uri``, ``policy_uri`` and every unknown
  member are ignored (§2 lets the server ignore any of them): nothing about them is stored or
  answered, so the answer tells the client what was registered (§3.2.1). The consent page
  shows no logo or link a client chose for itself.
* ``software_statement`` (§2.3) is not supported: ``unapproved_software_statement``.

A member given as ``null`` counts as omitted. A registered client is never first-party: its
users always see the consent page.

Registrations are limited per client address (``registration_max_per_ip`` per hour, counted
apart from user registrations: :mod:`~.ratelimit`); each one is audited
(``client_registered``, with the client id and address, never the secret). With
``client_registration = "token"`` the request must carry the initial access token (§3,
``Authorization: Bearer``), compared in constant time.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._oauth import is_scope
from .client_assertions import check_client_jwks
from .clients import (
    RedirectURIError,
    check_client_name,
    check_post_logout_redirect_uris,
    check_registration,
)
from .credentials import hash_client_secret, new_client_secret, secrets_equal
from .models import Client
from .oauth_errors import OAuthError, invalid_token, too_many_attempts
from .ratelimit import CLIENT_REGISTRATIONS, LimitReached
from .scopes import offered_scopes

if TYPE_CHECKING:
    from .config import Settings
    from .ratelimit import LoginLimiter
    from .storage import Store

__all__ = [
    "AUTH_METHODS",
    "ID_TOKEN_SIGNING_ALGORITHMS",
    "SELF_REGISTRABLE_GRANTS",
    "ClientMetadata",
    "ClientRegistrar",
    "parse_client_metadata",
]

#: How a client of each ``token_endpoint_auth_method`` proves itself at the token endpoint:
#: ``"none"`` a public client, ``"secret"`` with a secret made at registration, ``"key"`` with
#: a JWT signed by one of the keys of its ``jwks`` (``private_key_jwt``, RFC 7523 §2.2).
AUTH_METHODS: Mapping[str, Literal["none", "secret", "key"]] = {
    "client_secret_basic": "secret",
    "client_secret_post": "secret",
    "private_key_jwt": "key",
    "none": "none",
}
#: The grants a client may register itself for: not ``password`` (RFC 9700 §2.4: it must not
#: be used; OAuth 2.1 drops it), which stays for the service's own first-party login.
SELF_REGISTRABLE_GRANTS = ("authorization_code", "client_credentials", "refresh_token")
#: The only response type (OAuth 2.1 §4.1: the code flow; no implicit ``token``).
_RESPONSE_TYPES = ("code",)
#: The algorithms of ID tokens a client may ask for (``id_token_signed_response_alg``).
ID_TOKEN_SIGNING_ALGORITHMS = ("RS256", "ES256", "EdDSA")
#: The random bytes of a client id (128 bits: 22 base64url characters, never guessed).
_CLIENT_ID_BYTES = 16


def _invalid(description: str) -> OAuthError:
    return OAuthError("invalid_client_metadata", description)


@dataclass(frozen=True)
class ClientMetadata:
    """The client metadata of a registration request (RFC 7591 §2), checked, defaults applied."""

    token_endpoint_auth_method: str
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    client_name: str | None = None
    scopes: tuple[str, ...] = ()
    id_token_signed_response_alg: str | None = None
    #: The client's public keys (``private_key_jwt``), as registered: a JWK Set's JSON text.
    jwks: str | None = None

    @property
    def public(self) -> bool:
        """Whether the client is public: it cannot authenticate (``none``)."""
        return AUTH_METHODS[self.token_endpoint_auth_method] == "none"

    def answer(self) -> dict[str, Any]:
        """The metadata as registered (RFC 7591 §3.2.1): every member the server keeps, the
        ones without a value left out."""
        document: dict[str, Any] = {
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "grant_types": list(self.grant_types),
            "response_types": list(self.response_types),
        }
        optional = {
            "redirect_uris": list(self.redirect_uris),
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris),
            "client_name": self.client_name,
            "scope": " ".join(self.scopes),
            "id_token_signed_response_alg": self.id_token_signed_response_alg,
            "jwks": None if self.jwks is None else json.loads(self.jwks),
        }
        document.update({name: value for name, value in optional.items() if value})
        return document


def _string(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is not None and not isinstance(value, str):
        raise _invalid(f"{name} must be a string")
    return value


def _strings(
    document: Mapping[str, Any], name: str, error: str = "invalid_client_metadata"
) -> tuple[str, ...] | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise OAuthError(error, f"{name} must be an array of strings")
    return tuple(value)


def _auth_method(document: Mapping[str, Any]) -> str:
    method = _string(document, "token_endpoint_auth_method")
    if method is None:
        return "client_secret_basic"  # RFC 7591 §2
    if method not in AUTH_METHODS:
        raise _invalid(
            f"token_endpoint_auth_method {method[:40]!r} is not supported: one of "
            f"{', '.join(AUTH_METHODS)}"
        )
    return method


def _grants(document: Mapping[str, Any]) -> tuple[str, ...]:
    given = _strings(document, "grant_types")
    grants = ("authorization_code",) if given is None else tuple(dict.fromkeys(given))
    if not grants:
        raise _invalid("grant_types must name at least one grant")
    if "password" in grants:
        raise _invalid(
            "the password grant cannot be registered: RFC 9700 §2.4 says it must not be"
            " used (OAuth 2.1 drops it); use authorization_code"
        )
    unknown = [grant for grant in grants if grant not in SELF_REGISTRABLE_GRANTS]
    if unknown:
        raise _invalid(
            f"grant type {unknown[0][:40]!r} is not supported: one of "
            f"{', '.join(SELF_REGISTRABLE_GRANTS)}"
        )
    if "refresh_token" in grants and "authorization_code" not in grants:
        raise _invalid("the refresh_token grant comes with authorization_code, which issues them")
    return grants


def _response_types(document: Mapping[str, Any], grants: Sequence[str]) -> tuple[str, ...]:
    code_flow = "authorization_code" in grants
    given = _strings(document, "response_types")
    if given is None:
        return _RESPONSE_TYPES if code_flow else ()
    response_types = tuple(dict.fromkeys(given))
    unknown = [kind for kind in response_types if kind not in _RESPONSE_TYPES]
    if unknown:
        raise _invalid(
            f"response type {unknown[0][:40]!r} is not supported: only code (OAuth 2.1, the"
            " authorization code flow with PKCE)"
        )
    if bool(response_types) != code_flow:
        raise _invalid(
            "response_types and grant_types disagree: the code response type goes with the"
            " authorization_code grant, and only with it (RFC 7591 §2.1)"
        )
    return response_types


def _scopes(document: Mapping[str, Any], offered: Sequence[str]) -> tuple[str, ...]:
    scope = _string(document, "scope")
    if scope is None:
        return tuple(offered)
    if not is_scope(scope):
        raise _invalid("scope must be scope tokens separated by single spaces (RFC 6749 §3.3)")
    tokens = tuple(dict.fromkeys(scope.split(" ")))
    unknown = [token for token in tokens if token not in offered]
    if unknown:
        raise _invalid(
            f"scope not offered by this server: {' '.join(unknown)[:100]}"
            f" (offered: {' '.join(offered) or 'none'})"
        )
    return tokens


def parse_client_metadata(
    document: object,
    offered_scopes: Sequence[str],
    id_token_algorithms: Sequence[str] = ID_TOKEN_SIGNING_ALGORITHMS,
) -> ClientMetadata:
    """The :class:`ClientMetadata` of a registration request's JSON value, or an
    :class:`~.oauth_errors.OAuthError` (400, RFC 7591 §3.2.2) naming the first problem.
    ``offered_scopes``: the scopes the service offers; ``id_token_algorithms``: those it signs
    ID tokens with. The rules: the module's docstring."""
    if not isinstance(document, dict):
        raise _invalid("the client metadata must be a JSON object (RFC 7591 §3.1)")
    if document.get("software_statement") is not None:
        raise OAuthError(
            "unapproved_software_statement",
            "software statements are not supported by this server: send the metadata itself",
        )
    method = _auth_method(document)
    public = AUTH_METHODS[method] == "none"
    grants = _grants(document)
    response_types = _response_types(document, grants)
    redirect_uris = _strings(document, "redirect_uris", "invalid_redirect_uri") or ()
    try:
        check_registration(grants, redirect_uris, public=public)
    except RedirectURIError as exc:
        raise OAuthError("invalid_redirect_uri", str(exc)) from None
    except ValueError as exc:
        raise _invalid(str(exc)) from None
    post_logout = _strings(document, "post_logout_redirect_uris") or ()
    name = _string(document, "client_name")
    try:
        check_post_logout_redirect_uris(grants, post_logout, public=public)
        if name is not None:
            check_client_name(name)
    except ValueError as exc:
        raise _invalid(str(exc)) from None
    algorithm = _string(document, "id_token_signed_response_alg")
    if algorithm is not None and algorithm not in id_token_algorithms:
        raise _invalid(
            f"id_token_signed_response_alg {algorithm[:40]!r} is not supported: one of "
            f"{', '.join(id_token_algorithms)}"
        )
    jwks = _jwks(document, AUTH_METHODS[method] == "key")
    return ClientMetadata(
        token_endpoint_auth_method=method,
        grant_types=grants,
        response_types=response_types,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout,
        client_name=name,
        scopes=_scopes(document, offered_scopes),
        id_token_signed_response_alg=algorithm,
        jwks=jwks,
    )


def _jwks(document: Mapping[str, Any], key_method: bool) -> str | None:
    """The ``jwks`` member (RFC 7591 §2): required with ``private_key_jwt`` and only then, a
    JWK Set of public keys (:func:`~.client_assertions.check_client_jwks`); ``jwks_uri`` is
    not supported (the keys are registered by value)."""
    if document.get("jwks_uri") is not None:
        raise _invalid("jwks_uri is not supported: register the public keys as jwks")
    value = document.get("jwks")
    if value is None:
        if key_method:
            raise _invalid("private_key_jwt needs the client's public keys in jwks")
        return None
    if not key_method:
        raise _invalid("jwks is only for the private_key_jwt token_endpoint_auth_method")
    if not isinstance(value, dict):
        raise _invalid("jwks must be a JWK Set (a JSON object with keys, RFC 7517 §5)")
    text = json.dumps(value, separators=(",", ":"))
    try:
        check_client_jwks(text)
    except ValueError as exc:
        raise _invalid(f"jwks: {exc}") from None
    return text


class ClientRegistrar:
    """Registers clients for ``POST /register``; ``audit`` emits an audit event (never
    failing)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        limiter: LoginLimiter,
        clock: Callable[[], float],
        audit: Callable[..., None],
    ) -> None:
        self.store = store
        self.settings = settings
        self.limiter = limiter
        self.clock = clock
        self._audit = audit
        self._offered_scopes = offered_scopes(settings)

    def check_initial_access_token(self, presented: str, ip: str) -> None:
        """Accept the request's Bearer token only if it is ``client_registration_token``
        (RFC 7591 §3), compared in constant time; else 401 ``invalid_token`` with its
        challenge (RFC 6750 §3.1). Only asked in the ``"token"`` mode, which has a token."""
        if not secrets_equal(self.settings.client_registration_token or "", presented):
            self._audit("client_registration_refused", client_ip=ip)
            raise invalid_token("the initial access token is invalid")

    async def register(self, document: object, ip: str) -> dict[str, Any]:
        """Register a client from the metadata ``document`` (a JSON value) sent from the
        client address ``ip``; the RFC 7591 §3.2.1 answer. 400 for metadata that cannot be
        registered, 429 past ``registration_max_per_ip`` client registrations from ``ip`` per
        hour (counted once the metadata is valid, before anything is stored)."""
        metadata = parse_client_metadata(
            document, self._offered_scopes, self.settings.id_token_algorithms
        )
        try:
            await self.limiter.registration(ip, CLIENT_REGISTRATIONS)
        except LimitReached as exc:
            self._audit("rate_limited", client_ip=ip, limit="client_registration")
            raise too_many_attempts(exc.retry_after, "client registrations") from None
        secret = None if metadata.public or metadata.jwks else new_client_secret()
        client = Client(
            id=secrets.token_urlsafe(_CLIENT_ID_BYTES),
            secret_hash=None if secret is None else hash_client_secret(secret),
            grant_types=metadata.grant_types,
            scopes=metadata.scopes,
            created_at=self.clock(),
            name=metadata.client_name or "",
            redirect_uris=metadata.redirect_uris,
            first_party=False,
            post_logout_redirect_uris=metadata.post_logout_redirect_uris,
            id_token_signed_response_alg=metadata.id_token_signed_response_alg,
            jwks=metadata.jwks,
        )
        await self.store.add_client(client)
        self._audit("client_registered", client_id=client.id, client_ip=ip)
        answer: dict[str, Any] = {
            "client_id": client.id,
            "client_id_issued_at": int(client.created_at),
        }
        if secret is not None:
            answer["client_secret"] = secret
            answer["client_secret_expires_at"] = 0  # RFC 7591 §3.2.1: it does not expire
        answer.update(metadata.answer())
        return answer
