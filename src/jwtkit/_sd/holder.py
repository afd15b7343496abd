"""The Holder (RFC 9901 §7.2): an issued SD-JWT read and checked, its Disclosures listed by
claim path, a choice of them presented, with a Key Binding JWT (§4.3) when asked for."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .._claims import to_timestamp
from .._codec import DEFAULT_MAX_TOKEN_SIZE
from .._jwt import Verifier, decode_unverified, encode
from .._key_pair_signatures import default_algorithm, is_key_pair_signature
from .._keysource import KeyArgument
from .._messages import short
from .._types import Claims, Header
from ..errors import InvalidSDJWT, JWTError, UsageError
from ..jwk import Key, OctKey
from .disclosures import SD_ALGORITHMS, Disclosure, hasher
from .paths import Path, PathLike, format_pointer, parse_paths, same_step
from .processing import MAX_DISCLOSURES, process, sd_alg_of, split

__all__ = ["KB_JWT_TYP", "NO_CLAIM_CHECKS", "SDJWT", "key_binding_jwt"]

#: The ``typ`` of a Key Binding JWT (RFC 9901 §4.3).
KB_JWT_TYP = "kb+jwt"
#: The issuer-signed JWT's own claims are checked after processing (RFC 9901 §7.1 step 6),
#: so the signature check leaves them alone.
NO_CLAIM_CHECKS = {
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
}


def key_binding_jwt(
    sd_jwt: str,
    holder_key: Key,
    *,
    audience: str,
    nonce: str,
    sd_alg: str,
    algorithm: str | None = None,
    now: float | datetime | None = None,
) -> str:
    """The KB-JWT of ``sd_jwt`` (which ends with ``~``): ``typ`` ``kb+jwt``, ``iat``,
    ``aud``, ``nonce`` and ``sd_hash`` (RFC 9901 §4.3, §4.3.1), signed with the Holder's
    private key by an asymmetric algorithm (``algorithm``, else the key's own ``alg``, else
    the usual one for its type)."""
    if not isinstance(holder_key, Key) or isinstance(holder_key, OctKey):
        raise UsageError("holder_key: a Key Binding JWT is signed with the Holder's key pair")
    if not isinstance(audience, str) or not audience:
        raise UsageError("audience: the Key Binding JWT's 'aud' is one non-empty string")
    if not isinstance(nonce, str) or not nonce:
        raise UsageError("nonce: the Key Binding JWT's 'nonce' is a non-empty string")
    name = (
        algorithm if algorithm is not None else default_algorithm(holder_key, "a Key Binding JWT")
    )
    if not is_key_pair_signature(name):
        raise UsageError(
            f"algorithm {short(name)} cannot sign a Key Binding JWT: a digital signature "
            "algorithm is required (RFC 9901 §4.3)"
        )
    issued = time.time() if now is None else to_timestamp(now, "now")
    claims = {
        "iat": int(issued),
        "aud": audience,
        "nonce": nonce,
        "sd_hash": hasher(sd_alg)(sd_jwt),
    }
    return encode(claims, holder_key, name, typ=KB_JWT_TYP)


@dataclass(frozen=True)
class SDJWT:
    """An issued SD-JWT as its Holder sees it: the Issuer-signed JWT, its header and payload,
    every Disclosure, and the claims with all of them disclosed. :meth:`parse` reads one."""

    issuer_jwt: str
    header: Header
    #: The Issuer-signed payload as it is (digests, ``_sd_alg``).
    payload: Claims
    disclosures: tuple[Disclosure, ...]
    #: The processed payload with every Disclosure applied (RFC 9901 §7.1).
    claims: Claims
    sd_alg: str
    _paths: Mapping[str, tuple[Disclosure, Path]] = field(repr=False)

    @classmethod
    def parse(
        cls,
        sd_jwt: str,
        key: KeyArgument | None = None,
        *,
        algorithms: Iterable[str] | None = None,
        typ: str | None = None,
        sd_algorithms: Collection[str] = tuple(SD_ALGORITHMS),
        max_size: int = DEFAULT_MAX_TOKEN_SIZE,
        max_disclosures: int = MAX_DISCLOSURES,
    ) -> SDJWT:
        """Read an issued SD-JWT and check it (RFC 9901 §7.2 step 1): with ``key`` (and
        ``algorithms``) the Issuer's signature is verified as :func:`jwtkit.decode` would, and
        ``typ`` checked when given; without, it is read unverified. Either way every
        Disclosure must match a digest and every rule of §7.1 step 3-5 hold. An SD-JWT+KB is
        refused: Issuers send SD-JWTs (§7.2)."""
        jwt, encoded, kb_jwt = split(sd_jwt, max_size, max_disclosures)
        if kb_jwt is not None:
            raise InvalidSDJWT(
                "SD-JWT: a Holder receives an SD-JWT, not an SD-JWT+KB; it must end with '~' "
                "(RFC 9901 §7.2)"
            )
        try:
            if key is None:
                decoded = decode_unverified(jwt, max_token_size=max_size)
            else:
                verifier = Verifier(
                    key,
                    algorithms=algorithms,
                    typ=typ,
                    options=NO_CLAIM_CHECKS,
                    max_token_size=max_size,
                )
                decoded = verifier.decode_complete(jwt)
        except JWTError as exc:
            if key is not None:
                raise  # the Issuer's signature or keys: the errors of jwtkit.decode
            raise InvalidSDJWT(f"Issuer-signed JWT: {exc.message}") from exc
        sd_alg = sd_alg_of(decoded.claims, tuple(sd_algorithms))
        processed = process(decoded.claims, encoded, hasher(sd_alg))
        ordered = tuple(d for d, _ in processed.used.values())
        return cls(
            jwt, decoded.header, decoded.claims, ordered, processed.claims, sd_alg, processed.used
        )

    def disclosable(self) -> list[tuple[str, Disclosure]]:
        """Every Disclosure with the JSON Pointer of its claim in :attr:`claims`, in order."""
        entries = sorted(self._paths.values(), key=lambda entry: _sort_key(entry[1]))
        return [(format_pointer(path), disclosure) for disclosure, path in entries]

    def select(self, paths: Iterable[PathLike]) -> list[Disclosure]:
        """The Disclosures that reveal the claims at ``paths`` (JSON Pointers into
        :attr:`claims`): for each, the Disclosures of the claim and everything inside it, and
        of every claim around it, without which it could not be placed (RFC 9901 §4.2.6,
        §7.2 step 2)."""
        chosen: set[str] = set()
        for wanted in parse_paths(paths):
            if not _exists(self.claims, wanted):
                raise UsageError(f"disclose: no claim at {format_pointer(wanted)}")
            for digest, (_, path) in self._paths.items():
                if _is_prefix(path, wanted) or _is_prefix(wanted, path):
                    chosen.add(digest)
        return [d for digest, (d, _) in self._paths.items() if digest in chosen]

    def present(
        self,
        disclose: Iterable[PathLike] = (),
        *,
        holder_key: Key | None = None,
        audience: str | None = None,
        nonce: str | None = None,
        algorithm: str | None = None,
        now: float | datetime | None = None,
    ) -> str:
        """A presentation revealing the claims at ``disclose`` (see :meth:`select`): an
        SD-JWT, or with ``holder_key`` an SD-JWT+KB whose Key Binding JWT carries
        ``audience`` and ``nonce`` (both required then) (RFC 9901 §4, §4.3, §7.2)."""
        chosen = self.select(disclose)
        sd_jwt = self.issuer_jwt + "~" + "".join(d.encoded + "~" for d in chosen)
        if holder_key is None:
            if audience is not None or nonce is not None:
                raise UsageError("audience and nonce go into a Key Binding JWT: pass holder_key")
            return sd_jwt
        self._check_holder_key(holder_key)
        if audience is None or nonce is None:
            raise UsageError("a Key Binding JWT needs the Verifier's audience and nonce")
        return sd_jwt + key_binding_jwt(
            sd_jwt,
            holder_key,
            audience=audience,
            nonce=nonce,
            sd_alg=self.sd_alg,
            algorithm=algorithm,
            now=now,
        )

    def _check_holder_key(self, holder_key: Key) -> None:
        """The key must be the one in ``cnf.jwk``, or no Verifier could check its signature."""
        cnf = self.claims.get("cnf")
        jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
        if not isinstance(jwk, dict):
            raise UsageError("this SD-JWT has no 'cnf.jwk' key: it cannot be key-bound")
        if not isinstance(holder_key, Key):
            raise UsageError("holder_key: expected a jwtkit Key (the Holder's key pair)")
        try:
            bound = Key.from_jwk(jwk).thumbprint()
        except JWTError as exc:
            raise InvalidSDJWT(f"SD-JWT: 'cnf.jwk' is not a usable key: {exc.message}") from exc
        if holder_key.public_key().thumbprint() != bound:
            raise UsageError("holder_key is not the key this SD-JWT is bound to (cnf.jwk)")


def _sort_key(path: Path) -> tuple[tuple[int, str], ...]:
    return tuple((1, f"{part:012d}") if type(part) is int else (0, str(part)) for part in path)


def _is_prefix(prefix: Path, path: Path) -> bool:
    return len(prefix) <= len(path) and all(
        same_step(step, part) for step, part in zip(prefix, path, strict=False)
    )


def _exists(claims: Any, path: Path) -> bool:
    node = claims
    for step in path:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            node = node[step]
        elif isinstance(node, list) and any(same_step(step, i) for i in range(len(node))):
            node = node[int(step)]
        else:
            return False
    return True
