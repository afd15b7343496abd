"""The Verifier of SD-JWTs and SD-JWT+KBs (RFC 9901 §7.1, §7.3)."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .._claims import ClaimsPolicy, seconds, to_timestamp
from .._codec import DEFAULT_MAX_TOKEN_SIZE
from .._jwt import Verifier
from .._key_pair_signatures import KEY_PAIR_ALGORITHMS, is_key_pair_signature
from .._keysource import KeyArgument
from .._messages import short
from .._types import Claims, Header
from ..errors import ClaimError, InvalidKeyBinding, InvalidSignature, JWTError, UsageError
from ..jwa import DEFAULT_REGISTRY, Registry
from ..jwk import Key, OctKey
from .disclosures import SD_ALGORITHMS, Disclosure, hasher
from .holder import KB_JWT_TYP, NO_CLAIM_CHECKS
from .processing import MAX_DISCLOSURES, process, sd_alg_of, split

__all__ = ["DEFAULT_KB_ALGORITHMS", "SDJWTVerifier", "VerifiedSDJWT"]

#: The algorithms a Key Binding JWT may use unless told otherwise: digital signatures only
#: (RFC 9901 §4.3), never ``none`` nor a MAC.
DEFAULT_KB_ALGORITHMS = KEY_PAIR_ALGORITHMS

Clock = Callable[[], float]


@dataclass(frozen=True)
class VerifiedSDJWT:
    """A presentation that passed every check of :meth:`SDJWTVerifier.verify`."""

    #: The Processed SD-JWT Payload (RFC 9901 §7.1): the disclosed claims, without ``_sd``
    #: and ``_sd_alg``.
    claims: Claims
    #: The Issuer-signed JWT's protected header.
    header: Header
    #: The Disclosures presented, in the order they were applied.
    disclosures: tuple[Disclosure, ...]
    #: The Key Binding JWT's claims, when there was one.
    key_binding: Claims | None = None
    #: The Holder's key from ``cnf.jwk`` that signed the Key Binding JWT.
    holder_key: Key | None = None


def _refuse(message: str) -> InvalidKeyBinding:
    return InvalidKeyBinding(f"Key Binding JWT: {message}")


class SDJWTVerifier:
    """Verifies SD-JWT presentations as RFC 9901 §7.1 and §7.3 say; built once, reused.

    ``key`` and ``algorithms`` are the Issuer's keys and the accepted signature algorithms
    (as for :func:`jwtkit.decode`; ``none`` is never accepted, §7.1 step 2.1). ``issuer``,
    ``audience``, ``subject``, ``require`` and ``leeway`` are checked against the *processed*
    payload (§7.1 step 6): an ``exp`` or ``iss`` that is selectively disclosable counts only
    when disclosed, and a claim the Verifier needs is listed in ``require`` (§9.7). ``typ``
    makes the Issuer-signed JWT's ``typ`` required (§9.11). ``sd_algorithms`` are the
    accepted ``_sd_alg`` values (§7.1 step 2.5).

    ``require_key_binding`` is the Verifier's policy, decided before any presentation arrives
    (§7.3 step 1, §9.5): then a presentation without a Key Binding JWT is refused, and
    ``key_binding_audience`` (this Verifier's identifier) is required. The KB-JWT must be
    signed by the ``cnf.jwk`` key with one of ``key_binding_algorithms``, typed ``kb+jwt``,
    issued at most ``key_binding_max_age`` seconds ago (``clock``, ``leeway``), for
    ``key_binding_audience``, with the ``nonce`` given to :meth:`verify` and the ``sd_hash`` of
    what was presented. A KB-JWT sent when none is required is checked all the same.

    ``max_size`` and ``max_disclosures`` bound the input before any work is done.
    """

    def __init__(
        self,
        key: KeyArgument,
        *,
        algorithms: Iterable[str] | None = None,
        issuer: str | Iterable[str] | None = None,
        audience: str | Iterable[str] | None = None,
        subject: str | None = None,
        require: Iterable[str] = (),
        leeway: float | timedelta = 0,
        typ: str | None = None,
        sd_algorithms: Collection[str] = tuple(SD_ALGORITHMS),
        require_key_binding: bool = False,
        key_binding_audience: str | None = None,
        key_binding_algorithms: Iterable[str] = DEFAULT_KB_ALGORITHMS,
        key_binding_max_age: float | timedelta = 300,
        registry: Registry = DEFAULT_REGISTRY,
        clock: Clock | None = None,
        max_size: int = DEFAULT_MAX_TOKEN_SIZE,
        max_disclosures: int = MAX_DISCLOSURES,
    ) -> None:
        if isinstance(sd_algorithms, str) or not sd_algorithms:
            raise UsageError("sd_algorithms: expected a non-empty list such as ['sha-256']")
        for name in sd_algorithms:
            hasher(name)  # an unknown name is a UsageError now, not a refusal later
        if isinstance(key_binding_algorithms, str):
            raise UsageError("key_binding_algorithms must be a list of names, not a string")
        kb_algorithms = tuple(dict.fromkeys(key_binding_algorithms))
        if not kb_algorithms or not all(is_key_pair_signature(n) for n in kb_algorithms):
            raise UsageError(
                "key_binding_algorithms: expected asymmetric signature algorithms such as "
                "['ES256'] (RFC 9901 §4.3)"
            )
        if type(require_key_binding) is not bool:
            raise UsageError("require_key_binding: expected True or False")
        if key_binding_audience is not None and (
            not isinstance(key_binding_audience, str) or not key_binding_audience
        ):
            raise UsageError("key_binding_audience: expected this Verifier's identifier")
        if require_key_binding and key_binding_audience is None:
            raise UsageError(
                "require_key_binding needs key_binding_audience, the 'aud' this Verifier "
                "expects in Key Binding JWTs (RFC 9901 §7.3 step 5.6)"
            )
        if type(max_disclosures) is not int or max_disclosures < 0:
            raise UsageError("max_disclosures: expected a non-negative int")
        self._issuer_jwt = Verifier(
            key,
            algorithms=algorithms,
            typ=typ,
            options=NO_CLAIM_CHECKS,
            registry=registry,
            max_token_size=max_size,
        )
        self._policy = ClaimsPolicy.build(
            audience=audience, issuer=issuer, subject=subject, leeway=leeway, require=require
        )
        self._leeway = seconds(leeway, "leeway")
        self._sd_algorithms = tuple(sd_algorithms)
        self.require_key_binding = require_key_binding
        self._kb_audience = key_binding_audience
        self._kb_algorithms = kb_algorithms
        self._kb_max_age = seconds(key_binding_max_age, "key_binding_max_age")
        if self._kb_max_age <= 0:
            raise UsageError("key_binding_max_age: expected a positive number of seconds")
        self._registry = registry
        self._clock: Clock = time.time if clock is None else clock
        self._max_size = max_size
        self._max_disclosures = max_disclosures

    def verify(
        self, presentation: str, *, nonce: str | None = None, now: float | datetime | None = None
    ) -> VerifiedSDJWT:
        """Verify ``presentation`` (an SD-JWT or SD-JWT+KB) and return the processed claims.

        ``nonce`` is the value this Verifier sent the Holder for this transaction; it is
        required when Key Binding is. Raises :class:`~jwtkit.errors.InvalidSDJWT` (or its
        :class:`~jwtkit.errors.InvalidKeyBinding`), the signature and claim errors of
        :func:`jwtkit.decode`, or :class:`~jwtkit.errors.TokenTooLarge`.
        """
        if self.require_key_binding and nonce is None:
            raise UsageError("nonce: Key Binding is required, so the transaction's nonce is too")
        if nonce is not None and (not isinstance(nonce, str) or not nonce):
            raise UsageError("nonce: expected a non-empty string")
        moment = self._clock() if now is None else to_timestamp(now, "now")
        jwt, encoded, kb_jwt = split(presentation, self._max_size, self._max_disclosures)
        if self.require_key_binding and kb_jwt is None:
            raise _refuse("missing: this Verifier requires Key Binding (RFC 9901 §7.3 step 2)")
        decoded = self._issuer_jwt.decode_complete(jwt)
        sd_alg = sd_alg_of(decoded.claims, self._sd_algorithms)
        digest = hasher(sd_alg)
        processed = process(decoded.claims, encoded, digest)
        self._policy.check(processed.claims, moment)
        kb_claims: Claims | None = None
        holder_key: Key | None = None
        if kb_jwt is not None:
            presented = jwt + "~" + "".join(part + "~" for part in encoded)
            holder_key = _holder_key(processed.claims)
            kb_claims = self._check_key_binding(
                kb_jwt, holder_key, digest(presented), nonce, moment
            )
        return VerifiedSDJWT(
            claims=processed.claims,
            header=decoded.header,
            disclosures=tuple(d for d, _ in processed.used.values()),
            key_binding=kb_claims,
            holder_key=holder_key,
        )

    def _check_key_binding(
        self, kb_jwt: str, holder_key: Key, sd_hash: str, nonce: str | None, now: float
    ) -> Claims:
        """RFC 9901 §7.3 step 5.2-5.8."""
        try:
            verifier = Verifier(
                holder_key,
                algorithms=self._kb_algorithms,
                typ=KB_JWT_TYP,
                audience=self._kb_audience,
                options=None if self._kb_audience is not None else {"verify_aud": False},
                require=("iat", "aud", "nonce", "sd_hash"),
                max_age=self._kb_max_age,
                leeway=self._leeway,
                registry=self._registry,
                max_token_size=self._max_size,
            )
            claims = verifier.decode(kb_jwt, now=now)
        except InvalidSignature:
            raise _refuse("signature verification failed with the cnf key") from None
        except ClaimError as exc:
            raise _refuse(f"{exc.claim!r}: {exc.message}") from exc
        except JWTError as exc:
            raise _refuse(exc.message) from exc
        if not isinstance(claims["aud"], str):
            raise _refuse("'aud' must be a single string (RFC 9901 §4.3)")
        if nonce is not None and not (
            isinstance(claims["nonce"], str)
            and hmac.compare_digest(claims["nonce"].encode(), nonce.encode())
        ):
            raise _refuse(f"'nonce' is {short(claims['nonce'])}, not this transaction's")
        presented = claims["sd_hash"]
        if not isinstance(presented, str) or not hmac.compare_digest(
            presented.encode(), sd_hash.encode()
        ):
            raise _refuse(
                "'sd_hash' is not the hash of the SD-JWT presented with it (RFC 9901 §4.3.1)"
            )
        return claims


def _holder_key(claims: dict[str, Any]) -> Key:
    """The Holder's public key from ``cnf.jwk`` (RFC 9901 §4.1.2, RFC 7800 §3.2)."""
    cnf = claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise _refuse("the SD-JWT names no Holder key ('cnf.jwk', RFC 7800 §3.2)")
    try:
        key = Key.from_jwk(jwk)
    except JWTError as exc:
        raise _refuse(f"'cnf.jwk' is not a usable key: {exc.message}") from exc
    if isinstance(key, OctKey) or key.is_private:
        raise _refuse("'cnf.jwk' must be a public key")
    return key
