"""DPoP (RFC 9449) at the token service: the proofs of token requests and of resource requests.

:class:`DPoPProofs` checks proofs with :class:`jwtkit.dpop.DPoPVerifier` and records each
accepted ``jti`` through :meth:`.Store.use_once`, so that a proof is accepted once by all the
instances that share the database (RFC 9449 §11.1), however many requests carry it at once.
The URLs a proof must name (``htu``) are built from the ``issuer`` setting, the service's
public URL, never from the request's ``Host`` (RFC 9449 §4.3: the URI the client used).

* The token endpoint (RFC 9449 §5): one ``DPoP`` header, ``htm`` ``POST``, ``htu`` the token
  endpoint; a bad proof is 400 ``invalid_dpop_proof``; with the ``dpop_nonce`` setting a proof
  must carry a nonce the service issued (§8), else 400 ``use_dpop_nonce`` with a fresh one in
  ``DPoP-Nonce``. The nonces are stateless (:class:`jwtkit.dpop.DPoPNonces`) under a key
  derived from the key-encryption key (:func:`~.credentials.derive_dpop_nonce_key`).
* The service's own resources (``/userinfo``, RFC 9449 §7.1): ``Authorization: DPoP`` with a
  proof of the request's method and URL, whose ``ath`` is the hash of the access token and
  whose key is the token's ``cnf.jkt`` (§6.1); a bound token presented as ``Bearer`` is refused
  (§7.2). Errors are 401 with a ``WWW-Authenticate: DPoP`` challenge (:func:`dpop_challenge`,
  with the accepted ``algs``): ``invalid_dpop_proof`` for a missing or bad proof,
  ``invalid_token`` for a proof by another key than the token's (§7.1) and for a token
  presented with the wrong scheme.

The binding itself (``cnf.jkt`` in access tokens, the key of a refresh family or a code) is
made by :mod:`~.tokens` and :mod:`~.access_tokens`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jwtkit import _oauth
from jwtkit.dpop import DEFAULT_ALGORITHMS, DPoPNonces, DPoPProof, DPoPVerifier
from jwtkit.errors import DPoPNonceRequired, JWTError

from .oauth_errors import REALM, OAuthError, bearer_challenge

if TYPE_CHECKING:
    from .storage import Store

__all__ = [
    "DPOP_ALGORITHMS",
    "MAX_PROOF_AGE",
    "NONCE_LIFETIME",
    "DPoPProofs",
    "Presented",
    "bound_jkt",
    "dpop_challenge",
    "invalid_dpop_proof",
    "replay_key",
    "resource_challenge",
]

#: The algorithms of the proofs the service accepts (``dpop_signing_alg_values_supported``,
#: RFC 9449 §5.1): asymmetric ones only (§4.2).
DPOP_ALGORITHMS: tuple[str, ...] = DEFAULT_ALGORITHMS
#: How old (seconds) a proof's ``iat`` may be: RFC 9449 §11.1 asks for a short window.
MAX_PROOF_AGE = 60
#: How long (seconds) a nonce the service issued is accepted (RFC 9449 §8).
NONCE_LIFETIME = 300


@dataclass(frozen=True)
class Presented:
    """The credentials a request to a protected resource presents: the access token, the
    ``Authorization`` scheme it came with (``"Bearer"``, RFC 6750 §2.1, or ``"DPoP"``,
    RFC 9449 §7.1) and the request's ``DPoP`` header values."""

    token: str
    scheme: str
    proofs: tuple[str, ...] = ()


def replay_key(jkt: str, jti: str) -> str:
    """The :meth:`.Store.use_once` key of a proof: its ``jti`` in the namespace of its key, so
    that nobody can spend another key's ``jti`` ahead of it (RFC 9449 §11.1)."""
    return f"dpop:{jkt}:{jti}"


def bound_jkt(claims: Mapping[str, Any]) -> str | None:
    """The ``cnf.jkt`` of an access token's claims (RFC 9449 §6.1), or ``None`` if unbound."""
    confirmation = claims.get("cnf")
    if isinstance(confirmation, dict):
        jkt = confirmation.get("jkt")
        if isinstance(jkt, str):
            return jkt
    return None


def dpop_challenge(error: str | None = None, description: str | None = None) -> str:
    """The ``WWW-Authenticate: DPoP`` challenge of the service's resources (RFC 9449 §7.1):
    its realm, the error as in a Bearer challenge (RFC 6750 §3), the accepted ``algs``."""
    return _oauth.dpop_challenge(DPOP_ALGORITHMS, REALM, error, description)


def resource_challenge() -> str:
    """The challenge of a request that carries no credentials (RFC 6750 §3.1, RFC 9449 §7.1):
    both schemes the service accepts, without an error code."""
    return f"{bearer_challenge()}, {dpop_challenge()}"


def invalid_dpop_proof(description: str) -> OAuthError:
    """400 ``invalid_dpop_proof``: a token request's proof fails (RFC 9449 §5)."""
    return OAuthError("invalid_dpop_proof", description)


def _at_resource(error: str, description: str) -> OAuthError:
    """401 ``error`` with its DPoP challenge (RFC 9449 §7.1)."""
    return OAuthError(
        error, description, 401, {"WWW-Authenticate": dpop_challenge(error, description)}
    )


def _described(exc: JWTError) -> str:
    """What was wrong with a proof, for the client (the library's messages show no key)."""
    message = exc.message
    return message if message.startswith("DPoP proof") else f"DPoP proof: {message}"


class DPoPProofs:
    """The DPoP proofs of one service: ``issuer`` is its public URL (the ``htu`` base);
    ``nonce_key`` (32 bytes) turns on server-provided nonces at the token endpoint."""

    def __init__(
        self,
        store: Store,
        issuer: str,
        clock: Callable[[], float],
        *,
        nonce_key: bytes | None = None,
    ) -> None:
        self.store = store
        self.issuer = issuer
        self.clock = clock
        self.token_url = f"{issuer}/token"
        self.nonces = (
            None
            if nonce_key is None
            else DPoPNonces(nonce_key, lifetime=NONCE_LIFETIME, clock=clock)
        )
        # The jti is checked here, through the store (every instance), not in memory.
        self._token_verifier = DPoPVerifier(
            algorithms=DPOP_ALGORITHMS,
            max_age=MAX_PROOF_AGE,
            replay_cache=None,
            nonces=self.nonces,
            clock=clock,
        )
        self._resource_verifier = DPoPVerifier(
            algorithms=DPOP_ALGORITHMS, max_age=MAX_PROOF_AGE, replay_cache=None, clock=clock
        )

    def next_nonce(self) -> str | None:
        """A fresh nonce for a token response's ``DPoP-Nonce`` header (RFC 9449 §8.2), or
        ``None`` when nonces are off."""
        return None if self.nonces is None else self.nonces.issue()

    async def at_token_endpoint(self, values: Sequence[str]) -> DPoPProof | None:
        """The proof of a token request (RFC 9449 §5), ``values`` its ``DPoP`` header values:
        ``None`` without one; 400 ``invalid_dpop_proof`` for several or a bad one, or
        ``use_dpop_nonce`` (§8) with a fresh nonce in ``DPoP-Nonce``."""
        if not values:
            return None
        if len(values) > 1:
            raise invalid_dpop_proof("send one DPoP header, not several (RFC 9449 §4.3)")
        try:
            proof = self._token_verifier.verify(values[0], method="POST", url=self.token_url)
        except DPoPNonceRequired as exc:
            raise OAuthError(
                "use_dpop_nonce", _described(exc), 400, {"DPoP-Nonce": exc.nonce}
            ) from None
        except JWTError as exc:
            raise invalid_dpop_proof(_described(exc)) from None
        if not await self._first_use(proof):
            raise invalid_dpop_proof("DPoP proof: it was already used (its jti is accepted once)")
        return proof

    async def at_resource(
        self, presented: Presented, claims: Mapping[str, Any], method: str, path: str
    ) -> None:
        """Check the binding of a verified access token (``claims``) to the request that
        presents it, a ``method`` request to the service's ``path``: a bound token needs the
        DPoP scheme and a proof of its key (RFC 9449 §7.1, §7.2); an unbound token needs
        Bearer. 401 with a DPoP challenge otherwise."""
        jkt = bound_jkt(claims)
        if presented.scheme != "DPoP":
            if jkt is not None:
                # The error goes to the challenge of the scheme used; DPoP's says what works.
                description = (
                    "the access token is bound to a DPoP key: present it with Authorization:"
                    " DPoP and a DPoP proof (RFC 9449 §7.2)"
                )
                challenge = f"{bearer_challenge('invalid_token', description)}, {dpop_challenge()}"
                raise OAuthError("invalid_token", description, 401, {"WWW-Authenticate": challenge})
            return
        if jkt is None:
            raise _at_resource(
                "invalid_token",
                "the access token is not bound to a DPoP key: present it as a Bearer token",
            )
        if len(presented.proofs) != 1:
            described = "several DPoP headers" if presented.proofs else "no DPoP header"
            raise _at_resource(
                "invalid_dpop_proof",
                f"a DPoP-bound token needs exactly one DPoP proof; the request has {described}",
            )
        try:
            proof = self._resource_verifier.verify(
                presented.proofs[0],
                method=method,
                url=f"{self.issuer}{path}",
                access_token=presented.token,
            )
        except JWTError as exc:
            raise _at_resource("invalid_dpop_proof", _described(exc)) from None
        if not await self._first_use(proof):
            raise _at_resource(
                "invalid_dpop_proof", "DPoP proof: it was already used (its jti is accepted once)"
            )
        if not hmac.compare_digest(proof.jkt.encode(), jkt.encode()):
            # A good proof by another key: the binding fails, answered invalid_token (RFC 9449
            # §7.1). Its jti stays used: the proof itself was good.
            raise _at_resource(
                "invalid_token", "the access token is bound to another key than the DPoP proof's"
            )

    async def _first_use(self, proof: DPoPProof) -> bool:
        """Record the proof's ``jti`` until it could no longer verify; ``False`` if it was
        recorded already (a replay, RFC 9449 §11.1), by this instance or another."""
        return await self.store.use_once(
            replay_key(proof.jkt, proof.jti), proof.expires_at, self.clock()
        )
