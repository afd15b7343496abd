"""OpenID Connect ID tokens checked by a relying party: :class:`IDTokenVerifier`.

The rules of OpenID Connect Core 1.0 §3.1.3.7 (and §2 for the claims' types), on top of the
core's :class:`~jwtkit.Verifier` and its :class:`~jwtkit._claims.ClaimsPolicy`, which already
check the signature, ``iss`` (exact), ``aud``, ``exp``, ``iat`` and the required claims:

* step 1: an encrypted ID token (signed, then encrypted) is decrypted with the client's key
  and allow-lists (``decryption_key``), and must be; the signature inside is then checked;
* step 6-8: the signature always verifies with the caller's keys; the algorithms are an
  allow-list, ``RS256`` by default (step 7); ``HS*`` only with the client secret given
  explicitly, whose UTF-8 octets are then the key (step 8, §10.1); ``none`` never;
* step 2: ``iss`` equals the issuer exactly; step 3: ``aud`` contains the client id;
* an access token (``typ`` ``at+jwt``, RFC 9068 §4) is never taken for an ID token;
* steps 4-5: ``azp`` is required when ``aud`` names several audiences, and when present it
  must equal the client id;
* steps 9-10: ``exp`` in the future and ``iat`` present (``max_token_age`` bounds its age);
* step 11: when the authentication request sent a ``nonce``, the claim must be present and
  equal (compared in constant time);
* step 12: ``acr`` must be one of the caller's ``acr_values`` when the caller gives them;
* step 13: when the request sent ``max_age``, ``auth_time`` is required and no older than
  ``max_age`` (plus the leeway);
* §3.1.3.8 and §3.3.2.12: ``at_hash`` matches the access token when both are present;
  §3.3.2.11: ``c_hash`` is required and must match when the caller gives the ``code`` that
  came with the ID token (the hybrid flow's front channel); both are computed with the hash
  of the verified ``alg`` (:func:`jwtkit.oidc.token_hash`).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import timedelta
from typing import Any

from ._claims import _numeric_date, format_duration, format_time, seconds
from ._codec import DEFAULT_MAX_TOKEN_SIZE, b64url_decode, json_loads_object
from ._jwt import DecodedJWT, Now, Verifier, _now, normalize_typ
from ._keysource import KeyArgument
from ._messages import short
from ._token_hash import token_hash
from ._types import Claims
from .errors import (
    ClaimError,
    ExpiredToken,
    InvalidAudience,
    InvalidNonce,
    InvalidTokenHash,
    InvalidType,
    MalformedToken,
    MissingClaim,
    UsageError,
)
from .jwa import DEFAULT_REGISTRY, Registry
from .jwk import OctKey

__all__ = ["DEFAULT_ID_TOKEN_ALGORITHMS", "ID_TOKEN_CLAIMS", "IDTokenVerifier"]

#: The algorithm of ID tokens when the client registered none (Core §3.1.3.7 step 7).
DEFAULT_ID_TOKEN_ALGORITHMS = ("RS256",)
#: The claims every ID token carries (Core §2).
ID_TOKEN_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat"})

Clock = Callable[[], float]


class IDTokenVerifier:
    """Verify the ID tokens one provider (``issuer``) issues to one client (``client_id``).

    ::

        verifier = IDTokenVerifier(jwks, issuer="https://id.example", client_id="web")
        claims = verifier.decode(id_token, nonce=nonce, access_token=access_token)

    ``key`` is anything :class:`~jwtkit.Verifier` takes (keys, a key set, a JWKS client).
    ``algorithms`` defaults to ``["RS256"]``; ``HS256``/``HS384``/``HS512`` may be listed only
    with ``client_secret``. ``max_token_age`` bounds the age of ``iat``; ``acr_values`` lists
    the accepted ``acr`` values (the claim is then required); ``require`` adds required claims
    (``auth_time``, ``at_hash``, ...). Build once, reuse; safe to share between threads.

    A client that registered ``id_token_encrypted_response_alg`` receives its ID tokens
    encrypted (signed, then encrypted: Core §3.1.3.7 step 1, §10.2): ``decryption_key`` (its
    private key) with the ``decryption_algorithms`` and ``content_encryptions`` it registered
    decrypts them, as :class:`~jwtkit.Verifier` does; every ID token must then be encrypted.
    """

    __slots__ = (
        "_acr",
        "_client_id",
        "_clock",
        "_leeway",
        "_mac",
        "_mac_names",
        "_max_size",
        "_signed",
    )

    def __init__(
        self,
        key: KeyArgument | None,
        *,
        issuer: str,
        client_id: str,
        algorithms: Iterable[str] | None = None,
        client_secret: str | None = None,
        leeway: float | timedelta = 0,
        max_token_age: float | timedelta | None = None,
        acr_values: Collection[str] | None = None,
        require: Iterable[str] = (),
        registry: Registry = DEFAULT_REGISTRY,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
        clock: Clock | None = None,
        decryption_key: KeyArgument | None = None,
        decryption_algorithms: Iterable[str] | None = None,
        content_encryptions: Iterable[str] | None = None,
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise UsageError("issuer: expected the provider's issuer identifier (a string)")
        if not isinstance(client_id, str) or not client_id:
            raise UsageError("client_id: expected the client identifier (a string)")
        if client_secret is not None and (not isinstance(client_secret, str) or not client_secret):
            raise UsageError("client_secret: expected the client secret (a non-empty string)")
        names = _algorithm_names(algorithms)
        mac = frozenset(n for n in names if _symmetric(n, registry))
        if mac and client_secret is None:
            raise UsageError(
                f"algorithms: {sorted(mac)} need the client secret as the key (Core "
                "§3.1.3.7 step 8); pass client_secret=... or list asymmetric algorithms only"
            )
        if mac and decryption_key is not None:
            # Which verifier applies is told by the signature's alg, hidden inside the JWE.
            raise UsageError(
                f"algorithms: {sorted(mac)} cannot be combined with encrypted ID tokens "
                "(decryption_key); list asymmetric algorithms only"
            )
        if isinstance(require, str):
            raise UsageError("require must be a list of claim names, not a string")
        options: dict[str, Any] = {
            "issuer": issuer,
            "audience": client_id,
            "leeway": leeway,
            "require": ID_TOKEN_CLAIMS | set(require),
            "max_age": max_token_age,
            "registry": registry,
            "max_token_size": max_token_size,
            "clock": clock,
            "decryption_key": decryption_key,
            "decryption_algorithms": decryption_algorithms,
            "content_encryptions": content_encryptions,
        }
        signed = names - mac
        self._signed = Verifier(key, algorithms=signed, **options) if signed else None
        self._mac = (
            Verifier(OctKey(_utf8(client_secret)), algorithms=mac, **options) if mac else None
        )
        self._client_id = client_id
        self._leeway = seconds(leeway, "leeway")
        self._acr = _acr_values(acr_values)
        self._mac_names = mac
        self._max_size = max_token_size
        self._clock: Clock = time.time if clock is None else clock

    @property
    def client_id(self) -> str:
        """The client identifier the ID tokens must be issued to."""
        return self._client_id

    def decode(
        self,
        token: str | bytes,
        *,
        nonce: str | None = None,
        max_age: float | timedelta | None = None,
        access_token: str | None = None,
        code: str | None = None,
        now: Now = None,
    ) -> Claims:
        """Verify an ID token and return its claims.

        ``nonce`` and ``max_age`` are those of the authentication request (when it sent them);
        ``access_token`` is the one issued with the ID token (its ``at_hash`` is checked when
        present), ``code`` the authorization code that came with it in the same response
        (its ``c_hash`` is then required). ``now`` replaces the clock.
        """
        args = _Request.of(nonce, max_age, access_token, code)
        decoded = self._verifier(token).decode_complete(token, now=now)
        return self._check(decoded, args, now)

    async def adecode(
        self,
        token: str | bytes,
        *,
        nonce: str | None = None,
        max_age: float | timedelta | None = None,
        access_token: str | None = None,
        code: str | None = None,
        now: Now = None,
    ) -> Claims:
        """:meth:`decode` for async key providers (``jwtkit.remote.AsyncJWKSClient``)."""
        args = _Request.of(nonce, max_age, access_token, code)
        decoded = await self._verifier(token).adecode_complete(token, now=now)
        return self._check(decoded, args, now)

    def _verifier(self, token: str | bytes) -> Verifier:
        """The verifier for this token's ``alg``: the client secret's for an HMAC algorithm
        it allows, else the one over the caller's keys (whose allow-list then decides)."""
        if self._mac is None:
            assert self._signed is not None  # noqa: S101 - one of them always exists
            return self._signed
        alg = _header_alg(token, self._max_size)
        if self._signed is None or (type(alg) is str and alg in self._mac_names):
            return self._mac
        return self._signed

    def _check(self, decoded: DecodedJWT, request: _Request, now: Now) -> Claims:
        typ = decoded.header.get("typ")
        if isinstance(typ, str) and normalize_typ(typ) == "at+jwt":
            # An access token of the same provider is not an ID token (RFC 9068 §4 types
            # access tokens so that they are not confused; RFC 8725 §3.11, security matrix E5).
            raise InvalidType(
                "typ", "an access token", "an access token (typ at+jwt) is not an ID token"
            )
        claims = decoded.claims
        self._check_azp(claims)
        if request.nonce is not None:
            _check_nonce(claims, request.nonce)
        elif "nonce" in claims and type(claims["nonce"]) is not str:
            raise InvalidNonce("nonce", "must be a string")
        auth_time = _numeric_date(claims, "auth_time") if "auth_time" in claims else None
        if request.max_age is not None:
            if auth_time is None:
                raise MissingClaim("auth_time")  # Core §3.1.2.1 max_age, §3.1.3.7 step 13
            current = _now(now, self._clock)
            if current - auth_time > request.max_age + self._leeway:
                raise ExpiredToken(
                    "auth_time",
                    "older than max_age",
                    f"the user authenticated {format_duration(current - auth_time)} ago at "
                    f"{format_time(auth_time)}, more than max_age {request.max_age:g}s, "
                    f"leeway {self._leeway:g}s: authenticate again",
                )
        self._check_acr(claims)
        algorithm = decoded.algorithm
        assert algorithm is not None  # noqa: S101 - a verified token names its algorithm
        if request.access_token is not None and "at_hash" in claims:
            _check_hash(claims, "at_hash", request.access_token, algorithm, decoded)
        if request.code is not None:
            if "c_hash" not in claims:
                raise InvalidTokenHash(
                    "c_hash",
                    "missing",
                    "claim 'c_hash' is required with a code (Core §3.3.2.11)",
                )
            _check_hash(claims, "c_hash", request.code, algorithm, decoded)
        return claims

    def _check_azp(self, claims: Mapping[str, Any]) -> None:
        """Core §3.1.3.7 steps 4-5 (§2: ``azp`` is the party the token was issued to)."""
        azp = claims.get("azp")
        if azp is None and "azp" not in claims:
            aud = claims["aud"]
            if type(aud) is list and len(set(aud)) > 1:
                raise InvalidAudience(
                    "azp",
                    "missing",
                    "claim 'azp' is required when 'aud' names several audiences "
                    "(Core §3.1.3.7 step 4)",
                )
            return
        if azp != self._client_id:
            raise InvalidAudience(
                "azp",
                "not this client",
                f"authorized party {short(azp)} is not this client {self._client_id!r} "
                "(Core §3.1.3.7 step 5)",
            )

    def _check_acr(self, claims: Mapping[str, Any]) -> None:
        """Core §3.1.3.7 step 12: the ``acr`` is one the client accepts."""
        acr = claims.get("acr")
        if acr is not None and type(acr) is not str:
            raise ClaimError("acr", "must be a string")
        if self._acr is None:
            return
        if acr is None:
            raise MissingClaim("acr")
        if acr not in self._acr:
            raise ClaimError(
                "acr",
                "not accepted",
                f"authentication context {short(acr)} is not one of {sorted(self._acr)}",
            )


class _Request:
    """The authentication request's parameters and what came back with the ID token."""

    __slots__ = ("access_token", "code", "max_age", "nonce")

    def __init__(
        self, nonce: str | None, max_age: float | None, access_token: str | None, code: str | None
    ) -> None:
        self.nonce = nonce
        self.max_age = max_age
        self.access_token = access_token
        self.code = code

    @classmethod
    def of(
        cls,
        nonce: str | None,
        max_age: float | timedelta | None,
        access_token: str | None,
        code: str | None,
    ) -> _Request:
        for name, value in (("nonce", nonce), ("access_token", access_token), ("code", code)):
            if value is not None and (not isinstance(value, str) or not value):
                raise UsageError(f"{name}: expected a non-empty string")
        age = None if max_age is None else seconds(max_age, "max_age")
        if age is not None and age < 0:
            raise UsageError("max_age must not be negative")
        return cls(nonce, age, access_token, code)


def _algorithm_names(algorithms: Iterable[str] | None) -> frozenset[str]:
    if algorithms is None:
        return frozenset(DEFAULT_ID_TOKEN_ALGORITHMS)
    if isinstance(algorithms, (str, bytes)):
        raise UsageError("algorithms must be a list of names, e.g. ['RS256'], not a string")
    names = list(algorithms)
    if not all(type(n) is str for n in names):
        raise UsageError("algorithms: expected names (str)")
    if not names:
        raise UsageError("algorithms is empty: no ID token could ever verify")
    return frozenset(names)


def _symmetric(name: str, registry: Registry) -> bool:
    algorithm = registry.signature(name)
    return algorithm is not None and algorithm.symmetric


def _utf8(secret: str | None) -> bytes:
    assert secret is not None  # noqa: S101 - checked by the caller
    return secret.encode("utf-8")


def _acr_values(values: Collection[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str) or not values or not all(isinstance(v, str) for v in values):
        raise UsageError("acr_values: expected a non-empty collection of strings")
    return frozenset(values)


def _header_alg(token: str | bytes, max_size: int) -> object:
    """The ``alg`` of a token's header, read only to choose between the client secret and the
    caller's keys; the chosen verifier then checks everything (an unknown value fails there)."""
    if len(token) > max_size:
        return None  # the verifier reports the size
    raw = token.encode("ascii", "replace") if isinstance(token, str) else token
    segment = raw.partition(b".")[0]
    try:
        header = json_loads_object(b64url_decode(segment.decode("ascii"), "header"), "header")
    except (MalformedToken, UnicodeDecodeError):
        return None
    return header.get("alg")


def _check_nonce(claims: Mapping[str, Any], expected: str) -> None:
    """Core §3.1.3.7 step 11 (and §15.5.2): the sent nonce comes back unchanged."""
    if "nonce" not in claims:
        raise InvalidNonce(
            "nonce", "missing", "claim 'nonce' is missing but the request sent a nonce"
        )
    value = claims["nonce"]
    if type(value) is not str:
        raise InvalidNonce("nonce", "must be a string")
    if not hmac.compare_digest(value.encode("utf-8"), expected.encode("utf-8")):
        raise InvalidNonce("nonce", "mismatch", "claim 'nonce' is not the nonce the request sent")


def _check_hash(
    claims: Mapping[str, Any], name: str, value: str, algorithm: str, decoded: DecodedJWT
) -> None:
    """``at_hash`` / ``c_hash``: the left half of the hash of ``value`` with the ``alg`` that
    verified the token (Core §3.1.3.8, §3.3.2.11), compared in constant time."""
    claimed = claims[name]
    if type(claimed) is not str:
        raise InvalidTokenHash(name, "must be a string")
    expected = token_hash(value, algorithm, decoded.key)
    if not hmac.compare_digest(claimed.encode("utf-8"), expected.encode("ascii")):
        what = "access token" if name == "at_hash" else "code"
        raise InvalidTokenHash(
            name, "mismatch", f"claim {name!r} does not match the {what} given with the token"
        )
