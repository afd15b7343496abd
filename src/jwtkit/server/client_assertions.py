"""Client authentication with a signed JWT: ``private_key_jwt`` (RFC 7523 §2.2, OIDC Core §9).

A confidential client that registered a JWK Set of public keys (:attr:`.Client.jwks`) proves
who it is at the token, revocation and introspection endpoints with a JWT signed by one of its
private keys instead of a secret: the form parameters ``client_assertion_type`` (exactly
:data:`CLIENT_ASSERTION_TYPE`) and ``client_assertion`` (RFC 7521 §4.2; ``client_id`` is
optional, and must then name the same client). Nothing secret is stored or sent: a stolen
database or request log lets nobody authenticate as the client.

:class:`ClientAssertions` verifies an assertion with jwtkit's own :class:`jwtkit.Verifier`
over the client's keys. The rules (RFC 7523 §3, OIDC Core §9, RFC 7521 §4.2 and §5.2):

* at most :data:`MAX_ASSERTION_LENGTH` characters, looked at before anything is parsed;
* the signature verifies with one of the client's registered public keys, under an algorithm
  of :data:`SIGNING_ALGORITHMS`: asymmetric ones only, never ``HS*`` (the registered keys are
  public: anybody could compute an HMAC with them) and never ``none``;
* ``iss`` and ``sub`` are both the client id (RFC 7523 §3 items 1 and 2);
* ``aud`` is this server's issuer identifier (``settings.issuer``) and nothing else: a string,
  or an array holding only it. draft-ietf-oauth-rfc7523bis (which updates RFC 7523 §3)
  requires exactly this, to close the audience-injection attack: a client that was led to
  sign an assertion for a malicious server's *token endpoint URL*, or for a list of audiences,
  hands that server a credential it can replay here. The token endpoint URL is therefore **not**
  accepted, although RFC 7523 and OIDC Core §9 allowed it; clients built for those use the
  issuer, which is published as ``issuer`` in the metadata (RFC 8414);
* ``exp`` is required, not past, and at most :data:`MAX_ASSERTION_LIFETIME` seconds ahead
  (a short-lived credential, and a bound on how long its ``jti`` is remembered); ``nbf`` and
  ``iat``, when present, are not in the future; each time check allows :data:`CLOCK_SKEW`
  seconds between the client's clock and the service's (the injected service clock);
* ``jti`` is required (OIDC Core §9) and accepted once: :meth:`.Store.use_once` records
  ``client_assertion:<client id>:<jti>`` until the assertion can no longer be accepted, so a
  replayed assertion is refused, by every worker process;
* a ``typ`` header, when present, is ``JWT`` or ``client-authentication+jwt``
  (draft-ietf-oauth-rfc7523bis §4): a JWT explicitly typed as something else (an access token,
  a DPoP proof, a logout token) is never taken for a client assertion (RFC 8725 §3.11).

Replay, audience injection and long-lived or mistyped assertions are row E6 of the security
matrix (docs/security.md); ``HS*`` keyed with a public key is row A2.

Every failure is ``invalid_client`` (401, RFC 7521 §4.2.1 and §5.2; RFC 6749 §5.2) with a
description that says what was wrong; the assertion itself never appears in an error or an
audit event. The client's keys are parsed once and kept per (client id, JWK Set text), so a
changed registration takes effect at once.

:func:`check_client_jwks` is the registration rule for the JWK Set itself (``jwtkit clients add
--jwks``): public signature keys only.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jwtkit
from jwtkit.errors import (
    AlgorithmNotAllowed,
    ExpiredToken,
    InvalidAudience,
    InvalidKey,
    InvalidSignature,
    JWTError,
    MalformedToken,
)
from jwtkit.jwt import normalize_typ

from .oauth_errors import OAuthError, basic_challenge

if TYPE_CHECKING:
    from .models import Client
    from .storage import Store

__all__ = [
    "CLIENT_ASSERTION_TYPE",
    "CLOCK_SKEW",
    "MAX_ASSERTION_LENGTH",
    "MAX_ASSERTION_LIFETIME",
    "MAX_JTI_LENGTH",
    "MAX_JWKS_LENGTH",
    "SIGNING_ALGORITHMS",
    "VERIFIER_CACHE_SIZE",
    "AssertionRefused",
    "ClientAssertions",
    "check_client_jwks",
    "replay_key",
]

#: The one ``client_assertion_type`` of a JWT client assertion (RFC 7523 §2.2).
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The signature algorithms a client assertion may use: asymmetric only (never ``HS*``, never
#: ``none``), published as ``token_endpoint_auth_signing_alg_values_supported`` (RFC 8414 §2).
SIGNING_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
)
#: The longest client assertion looked at (characters); a longer one is refused unread.
MAX_ASSERTION_LENGTH = 8192
#: How far ahead of the service's clock an assertion's ``exp`` may be (seconds), beyond
#: :data:`CLOCK_SKEW`.
MAX_ASSERTION_LIFETIME = 300.0
#: The allowance (seconds) between the client's clock and the service's in the checks of
#: ``exp``, ``nbf`` and ``iat``.
CLOCK_SKEW = 30.0
#: The longest ``jti`` accepted (characters).
MAX_JTI_LENGTH = 256
#: The longest JWK Set a client may register (characters).
MAX_JWKS_LENGTH = 65536
#: How many clients' prepared verifiers are kept (oldest dropped first).
VERIFIER_CACHE_SIZE = 256
#: The ``typ`` values a client assertion may carry (after RFC 7515 §4.1.9 normalisation).
_ACCEPTED_TYPES = frozenset({"jwt", "client-authentication+jwt"})
_ALGORITHMS = ", ".join(SIGNING_ALGORITHMS)


class AssertionRefused(OAuthError):
    """``invalid_client`` (401, with the Basic challenge every ``invalid_client`` carries) for a
    client assertion; ``client_id`` is the id of the stored client it claimed to be, ``None``
    when no such client exists (so that only known ids reach the audit log)."""

    def __init__(self, description: str, client_id: str | None = None) -> None:
        super().__init__(
            "invalid_client", description, 401, {"WWW-Authenticate": basic_challenge()}
        )
        self.client_id = client_id


def replay_key(client_id: str, jti: str) -> str:
    """The :meth:`.Store.use_once` key of an assertion's ``jti``: one namespace per client, so
    that two clients may pick the same ``jti``."""
    return f"client_assertion:{client_id}:{jti}"


def _verification_keys(jwks: str) -> jwtkit.KeySet:
    """The public signature keys of a registered JWK Set (private members reduced to their
    public half, symmetric ones left out); :class:`ValueError` if none is left."""
    try:
        parsed = jwtkit.KeySet.from_jwks(jwks)
    except JWTError as exc:
        raise ValueError(exc.message) from None
    keys = [key.public_key() if key.is_private else key for key in parsed if key.kty != "oct"]
    if not keys:
        raise ValueError("no public key")
    return jwtkit.KeySet(keys)


def _fits_an_algorithm(key: jwtkit.Key) -> bool:
    for algorithm in SIGNING_ALGORITHMS:
        try:
            key.check_usable(algorithm, "verify")
        except InvalidKey:
            continue
        return True
    return False


def check_client_jwks(text: str) -> jwtkit.KeySet:
    """The keys of ``text``, a JWK Set (RFC 7517 §5) a client registers for
    ``private_key_jwt``, or :class:`ValueError` with a one-line reason: not a JWK Set, longer
    than :data:`MAX_JWKS_LENGTH`, no key, a member that cannot be used, a symmetric (``oct``)
    key, a private key (the client keeps its private keys; only the public halves are
    registered), or a key that verifies none of :data:`SIGNING_ALGORITHMS` (``use: enc``, an
    X25519 key, ...)."""
    if len(text) > MAX_JWKS_LENGTH:
        raise ValueError(f"the JWK Set is longer than {MAX_JWKS_LENGTH} characters")
    try:
        keys = jwtkit.KeySet.from_jwks(text)
        members = json.loads(text)["keys"]
    except JWTError as exc:
        raise ValueError(f"not a JWK Set: {exc.message}") from None
    for index, member in enumerate(members):
        if isinstance(member, dict) and member.get("kty") == "oct":
            raise ValueError(
                f"key {index} is a symmetric ('oct') key: private_key_jwt needs public keys"
                " (RSA, EC or OKP)"
            )
    if keys.skipped:
        skipped = keys.skipped[0]
        raise ValueError(f"key {skipped.index} cannot be used: {skipped.reason}")
    if not keys:
        raise ValueError("the JWK Set has no key")
    for index, key in enumerate(keys):
        if key.is_private:
            raise ValueError(
                f"key {index} is a private key: register only the public keys (the client"
                " keeps its private keys to itself)"
            )
        if not _fits_an_algorithm(key):
            raise ValueError(f"key {index} cannot verify signatures of {_ALGORITHMS}")
    return keys


def _described(exc: JWTError, issuer: str) -> str:
    """What was wrong with an assertion the verifier refused, without the assertion."""
    if isinstance(exc, AlgorithmNotAllowed):
        return f"the client assertion must be signed with one of {_ALGORITHMS}"
    if isinstance(exc, (InvalidSignature, InvalidKey)):
        return "the client assertion's signature does not verify with the client's keys"
    if isinstance(exc, ExpiredToken):
        return "the client assertion has expired"
    if isinstance(exc, InvalidAudience):
        return f"the client assertion's aud must be the issuer identifier {issuer}"
    if isinstance(exc, MalformedToken):
        return f"the client assertion is malformed: {exc.message}"
    return f"the client assertion is not valid: {exc.message}"


class ClientAssertions:
    """Authenticates clients by their assertions (see the module). ``issuer`` is the service's
    issuer identifier (``settings.issuer``), the one accepted ``aud``; ``clock`` the service's
    clock; ``cache_size`` bounds the prepared verifiers kept."""

    def __init__(
        self,
        store: Store,
        issuer: str,
        clock: Callable[[], float],
        *,
        cache_size: int = VERIFIER_CACHE_SIZE,
    ) -> None:
        self.store = store
        self.issuer = issuer
        self.clock = clock
        self.cache_size = cache_size
        # (client id, JWK Set text) -> its verifier, oldest first.
        self._verifiers: OrderedDict[tuple[str, str], jwtkit.Verifier] = OrderedDict()

    async def authenticate(self, assertion: str, client_id: str | None = None) -> Client:
        """The stored client that ``assertion`` authenticates, or :class:`AssertionRefused`.

        ``client_id`` is the request's ``client_id`` parameter, if any: it must name the client
        the assertion is about (RFC 7521 §4.2). A client that registered no keys cannot use an
        assertion, whatever else it has."""
        claimed = self._claimed_client(assertion, client_id)
        client = await self.store.client_by_id(claimed)
        if client is None:
            raise AssertionRefused("unknown client")
        if client.jwks is None:
            raise AssertionRefused(
                "this client has no registered keys: it cannot use private_key_jwt", client.id
            )
        verifier = self._verifier(client.id, client.jwks)
        now = self.clock()
        try:
            decoded = verifier.decode_complete(assertion, now=now)
        except JWTError as exc:
            raise AssertionRefused(_described(exc, self.issuer), client.id) from None
        jti = self._check(decoded, client.id, now)
        expires = float(decoded.claims["exp"]) + CLOCK_SKEW
        if not await self.store.use_once(replay_key(client.id, jti), expires, now):
            raise AssertionRefused(
                "the client assertion was already used: its jti is accepted once", client.id
            )
        return client

    @staticmethod
    def _claimed_client(assertion: str, client_id: str | None) -> str:
        """The client id an assertion claims to be (its ``sub``, read before it is verified:
        it only chooses the keys that then verify it)."""
        if len(assertion) > MAX_ASSERTION_LENGTH:
            raise AssertionRefused(
                f"the client assertion is longer than {MAX_ASSERTION_LENGTH} characters"
            )
        try:
            claims = jwtkit.decode_unverified(assertion, max_token_size=MAX_ASSERTION_LENGTH).claims
        except JWTError as exc:
            raise AssertionRefused(f"the client assertion is malformed: {exc.message}") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AssertionRefused("the client assertion's sub must be the client id")
        if client_id is not None and client_id != subject:
            raise AssertionRefused("client_id differs from the client assertion's sub")
        return subject

    def _verifier(self, client_id: str, jwks: str) -> jwtkit.Verifier:
        """The verifier of one client's keys, prepared once per registration."""
        entry = (client_id, jwks)
        verifier = self._verifiers.get(entry)
        if verifier is not None:
            return verifier
        try:
            keys = _verification_keys(jwks)
        except ValueError:
            raise AssertionRefused(
                "the client's registered keys cannot verify a signature", client_id
            ) from None
        verifier = jwtkit.Verifier(
            keys,
            algorithms=SIGNING_ALGORITHMS,
            issuer=client_id,
            subject=client_id,
            audience=self.issuer,
            require=("exp", "jti"),
            leeway=CLOCK_SKEW,
            max_token_size=MAX_ASSERTION_LENGTH,
        )
        if self.cache_size:
            self._verifiers[entry] = verifier
            if len(self._verifiers) > self.cache_size:
                self._verifiers.popitem(last=False)
        return verifier

    def _check(self, decoded: jwtkit.DecodedJWT, client_id: str, now: float) -> str:
        """What the verifier does not check: ``typ``, ``aud`` alone, the ``exp`` bound, the
        ``jti``; returns the ``jti``."""
        typ = decoded.header.get("typ")
        if typ is not None and normalize_typ(typ) not in _ACCEPTED_TYPES:
            raise AssertionRefused(
                "the client assertion's typ must be JWT or client-authentication+jwt", client_id
            )
        claims: dict[str, Any] = decoded.claims
        audience = claims["aud"]
        if audience not in (self.issuer, [self.issuer]):
            raise AssertionRefused(
                f"the client assertion's aud must be the issuer identifier {self.issuer} alone",
                client_id,
            )
        if claims["exp"] - now > MAX_ASSERTION_LIFETIME + CLOCK_SKEW:
            raise AssertionRefused(
                f"the client assertion's exp is more than {int(MAX_ASSERTION_LIFETIME)} seconds"
                " ahead",
                client_id,
            )
        jti = claims["jti"]
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
            raise AssertionRefused(
                f"the client assertion's jti must be a string of 1 to {MAX_JTI_LENGTH} characters",
                client_id,
            )
        return jti
