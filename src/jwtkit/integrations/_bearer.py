"""Bearer tokens in HTTP requests, framework-free: what every integration shares.

* :func:`parse_authorization` reads ``Authorization: Bearer <token>`` (RFC 6750 §2.1): the scheme
  is case-insensitive, then one or more spaces and exactly one ``b64token``; anything else under
  the Bearer scheme is a malformed request. Other schemes mean "no bearer credentials". Two
  ``Authorization`` fields are a malformed request too (:func:`single_header`). The grammar,
  the error body and the challenge come from :mod:`jwtkit._oauth`, which the token service
  uses as well: both answer every request alike.
* :func:`token_scopes` reads the granted scopes from ``scope`` (a space-separated string, RFC 8693
  §4.2, RFC 9068 §2.2.3) or ``scp`` (a string or a list of strings, as some issuers send).
* :func:`authenticate` / :func:`aauthenticate` verify the token with a :class:`jwtkit.Verifier`
  (``decode``, or ``adecode`` so that an async JWKS client is awaited) and check the scopes.
* :class:`BearerError` is every refusal, with its status, ``WWW-Authenticate`` challenge
  (RFC 6750 §3) and JSON body (``{"error": ..., "error_description": ...}``, RFC 6749 §5.2):

  =====  ========================  =====================================================
  400    ``invalid_request``       ``Authorization: Bearer`` with a malformed value
  401    (no error code)           no bearer credentials at all (RFC 6750 §3.1)
  401    ``invalid_token``         malformed, expired, wrongly signed, wrong ``aud``/``iss``...
  403    ``insufficient_scope``    valid token without a required scope; ``scope="..."``
  503    ``temporarily_unavailable``  the issuer's keys cannot be had (JWKS unreachable)
  =====  ========================  =====================================================

  RFC 6750 has no code for the last case. A key set that cannot be fetched is not the client's
  fault, and answering 401 would send well-behaved clients to get a new token in a loop, so the
  answer is 503 (RFC 9110 §15.6.4) without a challenge; the cause is logged on the
  ``jwtkit.integrations`` logger.

DPoP (RFC 9449 §7): with a :class:`DPoPSettings` the resource also takes
``Authorization: DPoP <token>`` with its one ``DPoP`` proof header (or only that, with
``required=True``). The proof is checked by a :class:`jwtkit.dpop.DPoPVerifier` against the
request's method and URL (:meth:`DPoPSettings.request_url`: the URL as the client used it),
``ath`` against the token and the proof key's thumbprint against the token's ``cnf.jkt``
(RFC 9449 §4.3, §6.1):

  =====  ========================  =====================================================
  401    ``invalid_dpop_proof``    no proof, several, or one that fails RFC 9449 §4.3
  401    ``use_dpop_nonce``        the proof lacks the server's nonce; ``DPoP-Nonce`` header
  401    ``invalid_token``         a proof by another key than ``cnf.jkt`` names (§7.1), a
                                   DPoP-bound token sent as Bearer (§7.2), a token without
                                   ``cnf.jkt`` sent as DPoP, or Bearer where only DPoP is taken
  =====  ========================  =====================================================

Every 401 offers each accepted scheme's challenge in one ``WWW-Authenticate`` value (RFC 9110
§11.6.1, RFC 9449 §7.1): ``Bearer realm="api", DPoP algs="ES256 ..."``; the error code and
description go to the challenge of the scheme the request used (to both when it cannot be
told: several ``Authorization`` fields, RFC 9449 §7.2).

.. warning::
   Descriptions are fixed phrases chosen from the error's class: never the token, never
   ``str(exc)``, never a key, a ``kid`` or a claim value.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .. import _oauth
from .._urls import URLRefused, check_web_url
from ..dpop import DPoPVerifier
from ..errors import (
    AlgorithmNotAllowed,
    ClaimError,
    DPoPNonceRequired,
    ExpiredToken,
    InvalidAudience,
    InvalidDPoPProof,
    InvalidIssuer,
    InvalidKey,
    InvalidSignature,
    InvalidType,
    JWTError,
    MalformedToken,
    NotYetValid,
    UsageError,
)
from ..jwt import Verifier

__all__ = [
    "DEFAULT_REALM",
    "SCOPE_CLAIMS",
    "BearerError",
    "DPoPRequest",
    "DPoPSettings",
    "aauthenticate",
    "authenticate",
    "bearer_token",
    "check_dpop",
    "check_realm",
    "check_scope_claims",
    "check_scopes",
    "check_verifier",
    "has_credentials",
    "parse_authorization",
    "single_header",
    "token_scopes",
]

#: The realm named in challenges unless the application picks another (RFC 9110 §11.5).
DEFAULT_REALM = "api"
#: Where the granted scopes are read from, first claim present wins.
SCOPE_CLAIMS: tuple[str, ...] = ("scope", "scp")

_log = logging.getLogger("jwtkit.integrations")

_UNAVAILABLE = "the access token cannot be verified right now; try again later"


class BearerError(JWTError):
    """A request refused by a protected resource, with all an HTTP layer needs to answer it.

    ``status`` is the HTTP status, ``error`` the RFC 6750 §3.1 code, ``description`` a fixed
    phrase safe to show (sanitized to the RFC 6749 §5.2 character set like the token
    service's: :func:`jwtkit._oauth.sanitize_description`), ``scope`` the scopes a 403 asks
    for. ``challenge(realm, resource_metadata)`` is the ``WWW-Authenticate`` value (``None`` for
    503; ``resource_metadata`` the RFC 9728 §5.1 parameter), ``headers(...)`` and ``body()``
    the rest.
    """

    code: ClassVar[str] = "bearer_error"

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        *,
        scope: Sequence[str] = (),
        credentials: bool = True,
        scheme: str | None = _oauth.BEARER,
        nonce: str | None = None,
    ) -> None:
        description = _oauth.sanitize_description(description)
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.scope = tuple(scope)
        #: ``False`` when the request carried no bearer credentials (no code in the challenge).
        self.credentials = credentials
        #: The scheme of the refused credentials: its challenge carries the error code (every
        #: challenge does when it is ``None``: the scheme could not be told, RFC 9449 §7.2).
        self.scheme = scheme
        #: A fresh nonce the client must put in its next proof (RFC 9449 §9).
        self.nonce = nonce

    @classmethod
    def missing(cls) -> BearerError:
        """401 for a request without bearer credentials: a bare challenge (RFC 6750 §3.1)."""
        return cls(401, "invalid_request", _oauth.MISSING_TOKEN, credentials=False)

    @classmethod
    def malformed_request(
        cls, description: str = _oauth.MALFORMED_AUTHORIZATION, scheme: str | None = _oauth.BEARER
    ) -> BearerError:
        """400 ``invalid_request``: the ``Authorization`` header is not ``Bearer <token>``
        (or, of ``scheme`` ``"dpop"``, not ``DPoP <token>``; ``None``: several of them)."""
        return cls(400, "invalid_request", description, scheme=scheme)

    @classmethod
    def invalid_token(cls, description: str) -> BearerError:
        """401 ``invalid_token`` with a fixed description (RFC 6750 §3.1)."""
        return cls(401, "invalid_token", description)

    @classmethod
    def insufficient_scope(cls, scopes: Sequence[str]) -> BearerError:
        """403 ``insufficient_scope`` naming the scopes the resource needs (RFC 6750 §3.1)."""
        return cls(
            403,
            "insufficient_scope",
            "the access token does not grant the required scope",
            scope=scopes,
        )

    @classmethod
    def invalid_proof(cls, exc: InvalidDPoPProof) -> BearerError:
        """401 ``invalid_dpop_proof``, or ``use_dpop_nonce`` with the nonce to send (RFC 9449
        §7.1, §9). The description is fixed, like every other."""
        if isinstance(exc, DPoPNonceRequired):
            return cls(
                401,
                "use_dpop_nonce",
                "the resource server requires a nonce in the DPoP proof",
                scheme=_oauth.DPOP,
                nonce=exc.nonce,
            )
        return cls(401, "invalid_dpop_proof", _BAD_PROOF, scheme=_oauth.DPOP)

    @classmethod
    def unavailable(cls) -> BearerError:
        """503 ``temporarily_unavailable``: the issuer's keys cannot be had right now."""
        return cls(503, "temporarily_unavailable", _UNAVAILABLE)

    def challenge(
        self,
        realm: str = DEFAULT_REALM,
        resource_metadata: str | None = None,
        dpop: DPoPSettings | None = None,
    ) -> str | None:
        """The ``WWW-Authenticate`` value (RFC 6750 §3), or ``None`` when none is sent (503).

        ``resource_metadata`` is the URL of the resource's RFC 9728 metadata document, sent as
        the challenge's ``resource_metadata`` parameter (RFC 9728 §5.1) when given. With
        ``dpop`` the value holds the DPoP challenge too (RFC 9449 §7.1), or only that one when
        DPoP is required; the error code goes to the challenge of :attr:`scheme`.
        """
        if self.status == 503:
            return None
        challenges = []
        for scheme in _schemes(dpop):
            mine = self.credentials and self.scheme in (None, scheme)
            error = self.error if mine else None
            description = self.description if mine else None
            scope = " ".join(self.scope) if mine and self.scope else None
            if scheme == _oauth.BEARER:
                challenges.append(
                    _oauth.bearer_challenge(realm, error, description, scope, resource_metadata)
                )
            else:
                assert dpop is not None  # noqa: S101 - _schemes names DPoP only with settings
                challenges.append(
                    _oauth.dpop_challenge(
                        dpop.algorithms, realm, error, description, scope, resource_metadata
                    )
                )
        return ", ".join(challenges)

    def headers(
        self,
        realm: str = DEFAULT_REALM,
        resource_metadata: str | None = None,
        dpop: DPoPSettings | None = None,
    ) -> dict[str, str]:
        """The response headers: the challenge, ``Cache-Control: no-store``, and the
        ``DPoP-Nonce`` when the client must use one (RFC 9449 §9)."""
        headers = {"Cache-Control": "no-store"}
        challenge = self.challenge(realm, resource_metadata, dpop)
        if challenge is not None:
            headers["WWW-Authenticate"] = challenge
        if self.nonce is not None:
            headers["DPoP-Nonce"] = self.nonce
        return headers

    def body(self) -> dict[str, str]:
        """The JSON body: ``{"error": ..., "error_description": ...}`` (RFC 6749 §5.2)."""
        return _oauth.error_body(self.error, self.description)

    def __repr__(self) -> str:
        return f"BearerError({self.status}, {self.error!r}, {self.description!r})"


def _schemes(dpop: DPoPSettings | None) -> tuple[str, ...]:
    """The schemes a resource takes, in the order its challenges are sent."""
    if dpop is None:
        return (_oauth.BEARER,)
    return (_oauth.DPOP,) if dpop.required else (_oauth.BEARER, _oauth.DPOP)


class DPoPSettings:
    """How a protected resource takes DPoP-bound access tokens (RFC 9449 §7).

    ``verifier`` checks the proofs (a :class:`jwtkit.dpop.DPoPVerifier`, by default one with
    its own in-memory replay cache: give one with a shared ``ReplayCache`` when several
    processes serve the API, and ``nonces`` to require server nonces). ``required=True`` takes
    DPoP only; by default Bearer tokens are taken too (RFC 9449 §7.2), except DPoP-bound ones.

    ``public_url`` is the URL of the API as clients reach it (``https://api.example``, or
    ``https://example.com/api`` when a proxy maps that prefix to the application's root): the
    proof's ``htu`` is compared with it followed by the request's path. Without it, the URL
    is the one the framework reports, built from the ``Host`` header and the connection's
    scheme: right when clients reach the application directly, or behind a proxy whose
    ``X-Forwarded-*`` headers the framework is told to trust (uvicorn ``--proxy-headers
    --forwarded-allow-ips``, Werkzeug's ``ProxyFix``). jwtkit itself never reads
    ``X-Forwarded-*``: any client can send them.
    """

    def __init__(
        self,
        verifier: DPoPVerifier | None = None,
        *,
        required: bool = False,
        public_url: str | None = None,
    ) -> None:
        if verifier is not None and not isinstance(verifier, DPoPVerifier):
            raise UsageError(
                f"DPoPSettings: expected a jwtkit.dpop.DPoPVerifier, got {type(verifier).__name__}"
            )
        if type(required) is not bool:
            raise UsageError("DPoPSettings: required must be True or False")
        self.verifier = verifier if verifier is not None else DPoPVerifier()
        self.required = required
        self.public_url: str | None = None
        if public_url is not None:
            try:
                parts = check_web_url(public_url, query=False)
            except URLRefused as exc:
                raise UsageError(f"DPoPSettings: public_url: {exc}") from None
            self.public_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The proof algorithms accepted, named in the challenge's ``algs`` (RFC 9449 §7.1)."""
        return self.verifier.algorithms

    def request_url(self, url: str) -> str:
        """The URL the client used for a request the framework reports as ``url``: ``url``
        itself, or with :attr:`public_url` its path after the public URL."""
        if self.public_url is None:
            return url
        return self.public_url + urlsplit(url).path

    def __repr__(self) -> str:
        mode = "DPoP only" if self.required else "DPoP and Bearer"
        return f"DPoPSettings({mode}, public_url={self.public_url!r})"


def check_dpop(dpop: object, where: str) -> DPoPSettings | None:
    """``dpop`` if it is ``None`` or a :class:`DPoPSettings`."""
    if dpop is not None and not isinstance(dpop, DPoPSettings):
        raise UsageError(
            f"{where}: dpop expects jwtkit.integrations DPoPSettings, got {type(dpop).__name__}"
        )
    return dpop


@dataclass(frozen=True)
class DPoPRequest:
    """What a DPoP check needs of a request: its method, its URL as the framework reports it
    (with query; :meth:`DPoPSettings.request_url` makes it the client's), and the values of
    its ``DPoP`` header fields."""

    method: str
    url: str
    proofs: Sequence[str]


def check_realm(realm: str) -> str:
    """``realm`` if it can be sent as-is in a challenge (printable ASCII, no quotes)."""
    if not isinstance(realm, str) or not _oauth.is_quotable(realm):
        raise UsageError(
            "realm: expected printable ASCII without '\"' or '\\' (it is sent in WWW-Authenticate)"
        )
    return realm


def check_scopes(scopes: str | Iterable[str]) -> tuple[str, ...]:
    """The required scopes as a tuple; a string is a space-separated list (RFC 6749 §3.3)."""
    items = scopes.split(" ") if isinstance(scopes, str) else list(scopes)
    result: list[str] = []
    for item in items:
        if not _oauth.is_scope_token(item):
            raise UsageError(
                f"scopes: {item!r} is not a scope token (printable ASCII without spaces, "
                "'\"' or '\\', RFC 6749 §3.3)"
            )
        if item not in result:
            result.append(item)
    return tuple(result)


def check_scope_claims(names: str | Iterable[str]) -> tuple[str, ...]:
    """The claims scopes are read from; a single name is accepted."""
    result = (names,) if isinstance(names, str) else tuple(names)
    if not result or not all(isinstance(name, str) and name for name in result):
        raise UsageError("scope_claims: expected claim names such as ('scope', 'scp')")
    return result


def check_verifier(verifier: Verifier, where: str, *, sync: bool = False) -> Verifier:
    """``verifier`` if it is a :class:`jwtkit.Verifier` (and, with ``sync``, has no async keys).

    Synchronous frameworks (Flask) call ``decode``. A verifier built on an async key provider
    (``jwtkit.remote.AsyncJWKSClient``) needs ``adecode`` to fetch keys: its ``decode`` would
    work from the cache and then fail once a fetch is due, so it is refused at setup.
    """
    if not isinstance(verifier, Verifier):
        raise UsageError(
            f"{where}: expected a jwtkit.Verifier, got {type(verifier).__name__} "
            "(decorators are used with parentheses: @require_token())"
        )
    if sync and verifier.asynchronous:
        raise UsageError(
            f"{where}: this Verifier gets its keys from an async key provider, which needs "
            "'await verifier.adecode(...)'; a synchronous framework needs a synchronous one "
            "such as jwtkit.remote.JWKSClient"
        )
    return verifier


def single_header(values: Sequence[str]) -> str | None:
    """The one ``Authorization`` header of a request, ``None`` without one.

    Several ``Authorization`` fields are a malformed request (RFC 6750 §3.1 ``invalid_request``:
    "uses more than one method"); the token service decides by the same rule
    (:func:`jwtkit._oauth.single_authorization`).
    """
    try:
        return _oauth.single_authorization(values)
    except _oauth.MalformedAuthorization as exc:  # either scheme's challenge says so (§7.2)
        raise BearerError.malformed_request(exc.description, None) from None


def parse_authorization(header: str | None) -> str | None:
    """The bearer token of an ``Authorization`` value; ``None`` when it holds no Bearer scheme.

    RFC 6750 §2.1: ``credentials = "Bearer" 1*SP b64token``, the scheme compared without case
    (RFC 9110 §11.1). A Bearer value that is empty, has several tokens or characters outside
    the ``b64token`` alphabet raises a 400 :class:`BearerError`. The token service parses by
    the same code (:func:`jwtkit._oauth.parse_bearer`).
    """
    try:
        return _oauth.parse_bearer(header)
    except _oauth.MalformedAuthorization as exc:
        raise BearerError.malformed_request(exc.description) from None


def bearer_token(header: str | None) -> str:
    """The bearer token of an ``Authorization`` value, or a 401/400 :class:`BearerError`."""
    token = parse_authorization(header)
    if token is None:
        raise BearerError.missing()
    return token


def token_scopes(
    claims: Mapping[str, Any], scope_claims: Sequence[str] = SCOPE_CLAIMS
) -> tuple[str, ...]:
    """The scopes a token grants, from the first of ``scope_claims`` it has.

    A string is split on spaces (``scope``, RFC 8693 §4.2); a list must hold strings (``scp``
    of some issuers). A value of any other shape grants nothing (fail closed).
    """
    for name in scope_claims:
        if name not in claims:
            continue
        value = claims[name]
        if isinstance(value, str):
            items: list[Any] = value.split(" ")
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            items = value
        else:
            return ()
        return tuple(dict.fromkeys(item for item in items if item))
    return ()


def _check_scopes(
    claims: dict[str, Any], required: Sequence[str], scope_claims: Sequence[str]
) -> dict[str, Any]:
    if required:
        granted = token_scopes(claims, scope_claims)
        if not all(scope in granted for scope in required):
            raise BearerError.insufficient_scope(required)
    return claims


# Errors that mean "this token is not acceptable" (the client's problem, 401). Anything else a
# verifier raises while getting keys (a JWKS client's fetch error) means the issuer's keys are
# unavailable (503).
_TOKEN_FAULTS = (MalformedToken, AlgorithmNotAllowed, InvalidKey, InvalidSignature, ClaimError)
_TOKEN_CODES = frozenset(
    {
        "malformed",
        "token_too_large",
        "unsupported_critical",
        "algorithm_not_allowed",
        "invalid_key",
        "key_not_found",
        "invalid_signature",
        "invalid_claim",
        "expired",
        "not_yet_valid",
        "invalid_issuer",
        "invalid_audience",
        "invalid_subject",
        "missing_claim",
        "invalid_type",
    }
)

# Most specific first: the first match gives the description.
_DESCRIPTIONS: tuple[tuple[type[JWTError], str], ...] = (
    (MalformedToken, "the access token is malformed"),
    (ExpiredToken, "the access token expired"),
    (NotYetValid, "the access token is not valid yet"),
    (InvalidAudience, "the access token is not meant for this resource"),
    (InvalidIssuer, "the access token's issuer is not trusted"),
    (InvalidType, "the access token has the wrong type"),
    (ClaimError, "the access token's claims are not valid"),
)


def _is_token_fault(exc: JWTError) -> bool:
    """``True`` when the token is at fault, ``False`` when its keys could not be had."""
    cause = exc.__cause__
    if cause is not None and not isinstance(cause, JWTError):
        return False  # the core wrapped a key provider's own failure (KeyNotFound from ...)
    return isinstance(exc, _TOKEN_FAULTS) and exc.code in _TOKEN_CODES


def _refusal(exc: JWTError, scheme: str = _oauth.BEARER) -> BearerError:
    """The answer to a verification error; a :class:`~jwtkit.UsageError` is a bug, re-raised."""
    refusal = _token_refusal(exc)
    refusal.scheme = scheme
    return refusal


def _token_refusal(exc: JWTError) -> BearerError:
    if isinstance(exc, UsageError):
        raise exc
    if not _is_token_fault(exc):
        cause = exc.__cause__
        _log.warning(
            "bearer token not verified: the issuer's keys are unavailable (%s%s)",
            type(exc).__name__,
            "" if cause is None else f" caused by {type(cause).__name__}",
        )
        return BearerError.unavailable()
    for kind, description in _DESCRIPTIONS:
        if isinstance(exc, kind):
            return BearerError.invalid_token(description)
    return BearerError.invalid_token("the access token is invalid")


_BAD_PROOF = "the DPoP proof is missing, or not valid for this request and access token"
_BOUND_AS_BEARER = "a DPoP-bound access token must be sent with the DPoP scheme and a proof"
_UNBOUND_AS_DPOP = "the access token is not bound to a DPoP key"
_BAD_URL = "the request's URL is not valid"
_OTHER_KEY = "the access token is bound to another key than the DPoP proof's"
_DPOP_ONLY = "this resource takes DPoP-bound access tokens: Authorization: DPoP <token>"


def has_credentials(header: str | None, dpop: DPoPSettings | None = None) -> bool:
    """Whether ``header`` holds credentials of a scheme the resource takes (Bearer, and DPoP
    with ``dpop``); malformed ones raise the 400 :class:`BearerError`."""
    if dpop is None:
        return parse_authorization(header) is not None
    return _credentials(header, dpop) is not None


def _credentials(header: str | None, dpop: DPoPSettings | None) -> tuple[str, str] | None:
    """The scheme and token of ``header`` under the schemes taken (one parser, ``_oauth``)."""
    if dpop is None:
        token = parse_authorization(header)
        return None if token is None else (_oauth.BEARER, token)
    try:
        return _oauth.parse_credentials(header)
    except _oauth.MalformedAuthorization as exc:
        dpop_value = exc.description == _oauth.MALFORMED_DPOP_AUTHORIZATION
        scheme = _oauth.DPOP if dpop_value else _oauth.BEARER
        raise BearerError.malformed_request(exc.description, scheme) from None


def _token_of(
    header: str | None, dpop: DPoPSettings | None, request: DPoPRequest | None
) -> tuple[str, str]:
    if dpop is not None and request is None:
        raise UsageError("authenticate: DPoP needs the request (method, URL, DPoP headers)")
    credentials = _credentials(header, dpop)
    if credentials is None:
        raise BearerError.missing()
    if dpop is not None and dpop.required and credentials[0] == _oauth.BEARER:
        raise BearerError(401, "invalid_token", _DPOP_ONLY, scheme=_oauth.DPOP)
    return credentials


def _bound_key(claims: Mapping[str, Any]) -> str | None:
    """The ``cnf.jkt`` of a token (RFC 9449 §6.1), ``None`` when it has none."""
    cnf = claims.get("cnf")
    if cnf is None:
        return None
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    if not isinstance(cnf, dict) or not (jkt is None or isinstance(jkt, str)):
        raise BearerError.invalid_token("the access token's claims are not valid")
    return jkt


def _check_binding(
    claims: dict[str, Any],
    scheme: str,
    token: str,
    dpop: DPoPSettings | None,
    request: DPoPRequest | None,
) -> None:
    """RFC 9449 §7: a DPoP token with its one valid proof; a bound token never as Bearer."""
    jkt = _bound_key(claims)
    if scheme == _oauth.BEARER:
        if jkt is not None:  # RFC 9449 §7.2: a downgrade
            raise BearerError.invalid_token(_BOUND_AS_BEARER)
        return
    assert dpop is not None  # noqa: S101 - _token_of gives "dpop" only with settings
    assert request is not None  # noqa: S101 - and checked that the request came with them
    if jkt is None:
        raise BearerError(401, "invalid_token", _UNBOUND_AS_DPOP, scheme=_oauth.DPOP)
    if len(request.proofs) != 1:  # RFC 9449 §4.3 point 1: one DPoP header field
        raise BearerError(401, "invalid_dpop_proof", _BAD_PROOF, scheme=_oauth.DPOP)
    try:
        proof = dpop.verifier.verify(
            request.proofs[0],
            method=request.method,
            url=dpop.request_url(request.url),
            access_token=token,
        )
    except InvalidDPoPProof as exc:
        raise BearerError.invalid_proof(exc) from exc
    except UsageError:  # the URL the framework reports: a Host header that is no host
        raise BearerError.malformed_request(_BAD_URL, _oauth.DPOP) from None
    # A good proof by another key than the token's: the binding fails, which RFC 9449 §7.1
    # (Figure 16) answers with invalid_token. The proof's jti stays used: it was a good proof.
    if not hmac.compare_digest(proof.jkt.encode(), jkt.encode()):
        raise BearerError(401, "invalid_token", _OTHER_KEY, scheme=_oauth.DPOP)


def _scheme_scopes(
    claims: dict[str, Any], scheme: str, required: Sequence[str], scope_claims: Sequence[str]
) -> dict[str, Any]:
    try:
        return _check_scopes(claims, required, scope_claims)
    except BearerError as exc:
        exc.scheme = scheme
        raise


def authenticate(
    verifier: Verifier,
    header: str | None,
    required_scopes: Sequence[str] = (),
    *,
    scope_claims: Sequence[str] = SCOPE_CLAIMS,
    dpop: DPoPSettings | None = None,
    request: DPoPRequest | None = None,
) -> dict[str, Any]:
    """The verified claims of the request's access token, or a :class:`BearerError`.

    ``header`` is the ``Authorization`` value (``None`` when absent); ``required_scopes`` must
    all be granted (checked with :func:`check_scopes` beforehand). Uses ``verifier.decode``.
    With ``dpop`` the DPoP scheme is taken too, which needs ``request`` (RFC 9449 §7); a token
    bound to a DPoP key (``cnf.jkt``) is refused under the Bearer scheme in every case.
    """
    scheme, token = _token_of(header, dpop, request)
    try:
        claims = verifier.decode(token)
    except JWTError as exc:
        raise _refusal(exc, scheme) from exc
    _check_binding(claims, scheme, token, dpop, request)
    return _scheme_scopes(claims, scheme, required_scopes, scope_claims)


async def aauthenticate(
    verifier: Verifier,
    header: str | None,
    required_scopes: Sequence[str] = (),
    *,
    scope_claims: Sequence[str] = SCOPE_CLAIMS,
    dpop: DPoPSettings | None = None,
    request: DPoPRequest | None = None,
) -> dict[str, Any]:
    """:func:`authenticate` with ``await verifier.adecode``: async key providers are awaited.

    With a synchronous provider ``adecode`` calls it directly, so a JWKS refetch would block
    the event loop: ASGI applications should use ``jwtkit.remote.AsyncJWKSClient``. The DPoP
    proof is checked inline: it needs no I/O unless its replay cache does.
    """
    scheme, token = _token_of(header, dpop, request)
    try:
        claims = await verifier.adecode(token)
    except JWTError as exc:
        raise _refusal(exc, scheme) from exc
    _check_binding(claims, scheme, token, dpop, request)
    return _scheme_scopes(claims, scheme, required_scopes, scope_claims)
