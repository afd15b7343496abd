"""The authorization endpoint's rules, framework-free: requests, decisions and codes.

:class:`Authorizer` reads an authorization request (OAuth 2.1 §4.1.1, RFC 6749 §4.1.1, OpenID
Connect Core 1.0 §3.1.2.1) and decides what the browser sees next; :mod:`jwtkit.server.http`
renders it. The rules, in the order they are checked:

1. **The client and its redirect URI first** (RFC 6749 §4.1.2.1, RFC 9700 §4.1.1): an unknown
   ``client_id``, a client without the ``authorization_code`` grant, or a ``redirect_uri`` that
   is not exactly one of the client's registered ones (:func:`~.clients.redirect_uri_matches`)
   is a :class:`PageError`: an HTML page, never a redirect, so that the endpoint cannot be made
   an open redirector. ``redirect_uri`` may be omitted only by a client with exactly one
   registered and without ``openid`` (OpenID Connect requires it).
2. **Every other error goes back to the client** (:class:`AuthorizationError`), at the
   redirect URI, with ``state`` and ``iss`` (RFC 9207): ``response_type`` other than
   ``code`` (OAuth 2.1 drops the implicit grant); PKCE (RFC 7636) required for every client,
   ``S256`` only (``plain`` refused, OAuth 2.1 §4.1.1, RFC 9700 §2.1.1); scopes within the
   client's; RFC 8707 ``resource`` indicators among the configured ``resources``
   (``invalid_target``); ``dpop_jkt`` (RFC 9449 §10) a JWK SHA-256 thumbprint; ``prompt``
   (``none`` alone), ``max_age``, ``nonce`` and ``login_hint`` well formed; ``request``,
   ``request_uri`` and ``registration`` are not supported (Core §6.1, §6.2, §7.2.1); only the
   query response mode. A parameter given twice is refused (RFC
   6749 §3.1), except ``resource`` (RFC 8707 §2).
3. **Login**: needed without an active session, with ``prompt=login``, or when the login is
   older than ``max_age`` (Core §3.1.2.1). ``prompt=none`` answers ``login_required`` instead
   of a page.
4. **Consent**: needed unless the client is first-party (:func:`~.clients.is_first_party`) or
   the user granted these scopes before (and ``prompt=consent`` does not ask again).
   ``prompt=none`` answers ``consent_required``.
5. **The code**: 256 random bits, stored as its SHA-256 with everything it is bound to (client,
   redirect URI, PKCE challenge, nonce, session, scopes, resources, the DPoP key), valid for
   ``authorization_code_ttl`` seconds (at most 60) and once (:meth:`~.storage.Store.redeem_code`).

The token endpoint's side of the code (its exchange) is in :mod:`~.tokens`; the login session
in :mod:`~.sessions`; how a request travels through the login and consent forms: the whole
request is one hidden form field, read again by :meth:`Authorizer.parse` on every step.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from jwtkit._oauth import is_client_id

from .clients import is_first_party, redirect_uri_matches
from .config import DEMO_CLIENT_ID
from .demo import client_by_id
from .models import AuthorizationCode, Consent
from .oauth_errors import OAuthError
from .scopes import narrowed

if TYPE_CHECKING:
    from .config import Settings
    from .models import Client, LoginSession, User
    from .storage import Store

__all__ = [
    "CODE_RETENTION",
    "MAX_CODE_LENGTH",
    "MAX_STATE_LENGTH",
    "AuthorizationError",
    "AuthorizationRequest",
    "Authorizer",
    "PageError",
    "RedirectTarget",
    "code_challenge_of",
    "hash_code",
    "is_code_verifier",
]

#: How long (seconds) a redeemed or expired code is remembered after its expiry, so that a
#: late second use is still recognised and revokes what the first issued.
CODE_RETENTION = 86400.0
#: The longest ``state``, ``nonce`` and ``login_hint`` accepted (characters).
MAX_STATE_LENGTH = 2048
MAX_NONCE_LENGTH = 512
MAX_LOGIN_HINT_LENGTH = 256
#: The longest code this service issues or reads (it issues 43 characters).
MAX_CODE_LENGTH = 128

# RFC 7636 §4.1 code_verifier: 43 to 128 unreserved characters.
_CODE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# The unpadded base64url of a SHA-256 (43 characters): an RFC 7636 §4.2 S256 code_challenge,
# and an RFC 9449 §10 dpop_jkt (a JWK SHA-256 thumbprint, RFC 7638).
_SHA256_BASE64URL = re.compile(r"[A-Za-z0-9\-_]{42}[AEIMQUYcgkosw048]")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_MAX_AGE = re.compile(r"[0-9]{1,10}")
#: Parameters that may not be repeated: every one but ``resource`` (RFC 8707 §2).
_REPEATABLE = frozenset({"resource"})
_UNSUPPORTED = {
    "request": ("request_not_supported", "request objects are not supported (Core §6.1)"),
    "request_uri": (
        "request_uri_not_supported",
        "request_uri is not supported (Core §6.2)",
    ),
    "registration": (
        "registration_not_supported",
        "the registration parameter is not supported (Core §7.2.1)",
    ),
}


def hash_code(code: str) -> bytes:
    """The SHA-256 under which an authorization code is stored."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).digest()


def is_code_verifier(verifier: str) -> bool:
    """Whether ``verifier`` is an RFC 7636 §4.1 ``code_verifier``."""
    return _CODE_VERIFIER.fullmatch(verifier) is not None


def code_challenge_of(verifier: str) -> str:
    """The S256 ``code_challenge`` of a ``code_verifier`` (RFC 7636 §4.2):
    base64url(SHA-256(ASCII(verifier))), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class PageError(Exception):
    """An authorization request that cannot be answered at the client's redirect URI: shown
    to the user as an HTML page (``title``, ``message``), never redirected."""

    def __init__(self, title: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.status = status


@dataclass(frozen=True)
class RedirectTarget:
    """Where an authorization response goes: the redirect URI, the request's ``state`` and
    this service's ``iss`` (RFC 9207 §2), added to every response."""

    redirect_uri: str
    state: str | None
    issuer: str

    def url(self, **parameters: str) -> str:
        """The redirect URI with ``parameters``, ``state`` and ``iss`` added to its query
        (RFC 6749 §4.1.2: the URI's own query is kept)."""
        values = dict(parameters)
        if self.state is not None:
            values["state"] = self.state
        values["iss"] = self.issuer
        separator = "&" if "?" in self.redirect_uri else "?"
        return f"{self.redirect_uri}{separator}{urlencode(values)}"


class AuthorizationError(Exception):
    """An error answered at the client's redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, target: RedirectTarget, error: str, description: str) -> None:
        super().__init__(description)
        self.target = target
        self.error = error
        self.description = description

    @property
    def location(self) -> str:
        """The redirect URI with ``error``, ``error_description``, ``state`` and ``iss``."""
        return self.target.url(error=self.error, error_description=self.description)


@dataclass(frozen=True)
class AuthorizationRequest:
    """A valid authorization request (what :meth:`Authorizer.parse` returns)."""

    client: Client
    target: RedirectTarget
    #: The ``redirect_uri`` as presented (``None``: omitted); the code is bound to it.
    presented_redirect_uri: str | None
    scope: str
    code_challenge: str
    nonce: str | None
    prompt: frozenset[str]
    max_age: int | None
    login_hint: str | None
    resource: tuple[str, ...]
    #: The request's query string as received, carried through the login and consent forms.
    query: str
    #: The ``dpop_jkt`` parameter (RFC 9449 §10): the JWK SHA-256 thumbprint of the DPoP key
    #: the code is bound to; ``None``: not bound.
    dpop_jkt: str | None = None

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.scope.split()) if self.scope else ()

    def fail(self, error: str, description: str) -> AuthorizationError:
        """An error for this request, answered at its redirect URI."""
        return AuthorizationError(self.target, error, description)


def _single(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str], list[str], list[str]]:
    """(each parameter once, the repeated names, the ``resource`` values); empty values are
    omitted parameters (RFC 6749 §3.1)."""
    params: dict[str, str] = {}
    repeated: list[str] = []
    resources: list[str] = []
    seen: set[str] = set()
    for name, value in pairs:
        if name in _REPEATABLE:
            if value:
                resources.append(value)
            continue
        if name in seen:
            repeated.append(name)
        seen.add(name)
        if value:
            params[name] = value
    return params, repeated, resources


class Authorizer:
    """The authorization endpoint's decisions over one :class:`~.storage.Store`."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], float]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._default_scope = tuple(settings.default_scope.split())

    # -- the request --------------------------------------------------------------------

    async def parse(self, pairs: Sequence[tuple[str, str]], query: str) -> AuthorizationRequest:
        """Validate an authorization request (``pairs``: its parameters in order; ``query``:
        the same as a query string, kept for the forms). Raises :class:`PageError` while the
        client or redirect URI is in doubt, :class:`AuthorizationError` after."""
        params, repeated, resources = _single(pairs)
        client, redirect_uri = await self._client_and_redirect(params, repeated)
        state = params.get("state")
        if state is not None and (len(state) > MAX_STATE_LENGTH or not _PRINTABLE.fullmatch(state)):
            # Not echoed back: the error says why.
            raise AuthorizationError(
                RedirectTarget(redirect_uri, None, self.settings.issuer),
                "invalid_request",
                f"state must be at most {MAX_STATE_LENGTH} printable ASCII characters",
            )
        target = RedirectTarget(redirect_uri, state, self.settings.issuer)
        if repeated:
            raise AuthorizationError(
                target,
                "invalid_request",
                f"parameter {repeated[0][:40]!r} is repeated (RFC 6749 §3.1)",
            )
        for name, (error, description) in _UNSUPPORTED.items():
            if name in params:
                raise AuthorizationError(target, error, description)
        response_type = params.get("response_type")
        if response_type is None:
            raise AuthorizationError(target, "invalid_request", "response_type is required")
        if response_type != "code":
            raise AuthorizationError(
                target,
                "unsupported_response_type",
                "response_type must be code (OAuth 2.1 §4.1.1: the implicit grant is gone)",
            )
        response_mode = params.get("response_mode")
        if response_mode is not None and response_mode != "query":
            raise AuthorizationError(
                target, "invalid_request", "response_mode must be query (the only one supported)"
            )
        challenge = self._code_challenge(params, target)
        try:
            scope = narrowed(params.get("scope"), client.scopes, self._default_scope)
        except OAuthError as exc:
            raise AuthorizationError(target, exc.error, exc.description) from None
        openid = "openid" in scope.split()
        if openid and "redirect_uri" not in params:
            raise AuthorizationError(
                target, "invalid_request", "redirect_uri is required (OpenID Connect Core §3.1.2.1)"
            )
        return AuthorizationRequest(
            client=client,
            target=target,
            presented_redirect_uri=params.get("redirect_uri"),
            scope=scope,
            code_challenge=challenge,
            nonce=self._bounded(params, "nonce", MAX_NONCE_LENGTH, target),
            prompt=self._prompt(params, target),
            max_age=self._max_age(params, target),
            login_hint=self._bounded(params, "login_hint", MAX_LOGIN_HINT_LENGTH, target),
            resource=self._resource(resources, target),
            query=query,
            dpop_jkt=self._dpop_jkt(params, target),
        )

    async def _client_and_redirect(
        self, params: Mapping[str, str], repeated: Sequence[str]
    ) -> tuple[Client, str]:
        """The client and the redirect URI to answer at, or a :class:`PageError`."""
        if "client_id" in repeated or "redirect_uri" in repeated:
            raise PageError(
                "Invalid request", "The client_id or redirect_uri parameter is given twice."
            )
        client_id = params.get("client_id")
        if client_id is None or not is_client_id(client_id):
            raise PageError("Invalid request", "The request does not name a valid client_id.")
        client = await client_by_id(self.store, self.settings, client_id)
        if client is None:
            raise PageError("Unknown application", "No application is registered with this id.")
        if "authorization_code" not in client.grant_types or not client.redirect_uris:
            raise PageError(
                "Unauthorized application",
                "This application may not use the browser login (authorization_code grant).",
            )
        presented = params.get("redirect_uri")
        if presented is None:
            if len(client.redirect_uris) != 1:
                raise PageError(
                    "Invalid request",
                    "The request must name its redirect_uri: the application registered several.",
                )
            return client, client.redirect_uris[0]
        # The demo client is the page at <issuer>/, not a native app: its port is exact.
        native = client.id != DEMO_CLIENT_ID
        if not any(
            redirect_uri_matches(uri, presented, native=native) for uri in client.redirect_uris
        ):
            raise PageError(
                "Invalid redirect URI",
                "The redirect_uri is not one the application registered, character for "
                "character. You have not been redirected.",
            )
        return client, presented

    @staticmethod
    def _code_challenge(params: Mapping[str, str], target: RedirectTarget) -> str:
        """PKCE (RFC 7636 §4.3), required of every client; S256 only."""
        challenge = params.get("code_challenge")
        if challenge is None:
            raise AuthorizationError(
                target, "invalid_request", "code_challenge is required (PKCE, RFC 7636)"
            )
        if params.get("code_challenge_method") != "S256":
            raise AuthorizationError(
                target,
                "invalid_request",
                "code_challenge_method must be S256 (plain is not accepted, RFC 9700 §2.1.1)",
            )
        if not _SHA256_BASE64URL.fullmatch(challenge):
            raise AuthorizationError(
                target,
                "invalid_request",
                "code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)",
            )
        return challenge

    @staticmethod
    def _bounded(
        params: Mapping[str, str], name: str, limit: int, target: RedirectTarget
    ) -> str | None:
        value = params.get(name)
        if value is not None and (len(value) > limit or not _PRINTABLE.fullmatch(value)):
            raise AuthorizationError(
                target,
                "invalid_request",
                f"{name} must be at most {limit} printable ASCII characters",
            )
        return value

    @staticmethod
    def _dpop_jkt(params: Mapping[str, str], target: RedirectTarget) -> str | None:
        """RFC 9449 §10 ``dpop_jkt``: the base64url JWK SHA-256 thumbprint (RFC 7638) of the
        key whose proof the code's exchange must carry."""
        jkt = params.get("dpop_jkt")
        if jkt is not None and not _SHA256_BASE64URL.fullmatch(jkt):
            raise AuthorizationError(
                target,
                "invalid_request",
                "dpop_jkt must be the base64url JWK SHA-256 thumbprint of a key (RFC 9449 §10)",
            )
        return jkt

    @staticmethod
    def _prompt(params: Mapping[str, str], target: RedirectTarget) -> frozenset[str]:
        """Core §3.1.2.1 ``prompt``: space-separated values; ``none`` only alone. Values this
        service does not know (``select_account``, ``create``) are ignored."""
        value = params.get("prompt")
        if value is None:
            return frozenset()
        prompt = frozenset(value.split(" "))
        if "" in prompt or ("none" in prompt and len(prompt) > 1):
            raise AuthorizationError(
                target,
                "invalid_request",
                "prompt must be space-separated values, and none cannot be combined",
            )
        return prompt

    @staticmethod
    def _max_age(params: Mapping[str, str], target: RedirectTarget) -> int | None:
        value = params.get("max_age")
        if value is None:
            return None
        if not _MAX_AGE.fullmatch(value):
            raise AuthorizationError(
                target, "invalid_request", "max_age must be a non-negative number of seconds"
            )
        return int(value)

    def _resource(self, resources: Sequence[str], target: RedirectTarget) -> tuple[str, ...]:
        """RFC 8707 §2: each ``resource`` must be a configured resource indicator."""
        allowed = self.settings.resource_indicators
        for resource in resources:
            if resource not in allowed:
                raise AuthorizationError(
                    target,
                    "invalid_target",
                    "resource is not a resource this service issues tokens for (RFC 8707 §2)",
                )
        return tuple(dict.fromkeys(resources))

    # -- decisions ----------------------------------------------------------------------

    def needs_login(self, request: AuthorizationRequest, session: LoginSession | None) -> bool:
        """Whether the user must log in (again) before a code is issued."""
        if session is None or "login" in request.prompt:
            return True
        if request.max_age is not None:
            return self.clock() - session.auth_time > request.max_age
        return False

    async def needs_consent(self, request: AuthorizationRequest, user: User) -> bool:
        """Whether the consent page must be shown: not for a first-party client; otherwise
        unless the user granted every requested scope before and ``prompt`` does not ask."""
        client = request.client
        if is_first_party(client.id, client, self.settings):
            return False
        if "consent" in request.prompt:
            return True
        granted = await self.store.consent(user.id, client.id)
        return granted is None or not set(request.scopes) <= set(granted.scopes)

    async def grant_consent(self, request: AuthorizationRequest, user: User) -> None:
        """Remember that the user granted the requested scopes (added to earlier ones)."""
        earlier = await self.store.consent(user.id, request.client.id)
        scopes = tuple(dict.fromkeys((*(earlier.scopes if earlier else ()), *request.scopes)))
        await self.store.grant_consent(Consent(user.id, request.client.id, scopes, self.clock()))

    async def issue_code(
        self, request: AuthorizationRequest, session: LoginSession, user: User
    ) -> str:
        """Store a new code for ``user`` in ``session``; return the redirect URL with it."""
        now = self.clock()
        code = secrets.token_urlsafe(32)
        expires = now + self.settings.authorization_code_ttl
        await self.store.add_code(
            AuthorizationCode(
                code_hash=hash_code(code),
                client_id=request.client.id,
                user_id=user.id,
                redirect_uri=request.presented_redirect_uri,
                scope=request.scope,
                code_challenge=request.code_challenge,
                nonce=request.nonce,
                sid=session.sid,
                auth_time=session.auth_time,
                issued_at=now,
                expires_at=expires,
                purge_after=expires + CODE_RETENTION,
                resource=request.resource,
                dpop_jkt=request.dpop_jkt,
            )
        )
        return request.target.url(code=code)
