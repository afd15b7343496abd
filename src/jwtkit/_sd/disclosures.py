"""Disclosures (RFC 9901 §4.2): salts, the encoding, digests, decoys and the hash algorithms.

A Disclosure is the base64url encoding of the UTF-8 JSON array ``[salt, name, value]`` (an
object property, §4.2.1) or ``[salt, value]`` (an array element, §4.2.2); its digest is the
base64url hash of the *encoded* string's ASCII bytes (§4.2.3), so the exact encoding an Issuer
chose is what its signature commits to and no canonicalization is ever needed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._codec import b64url_decode, b64url_encode, json_loads_value, json_type
from .._messages import short
from ..errors import InvalidSDJWT, MalformedToken, UsageError

__all__ = [
    "DEFAULT_SD_ALG",
    "SD_ALGORITHMS",
    "Disclosure",
    "decoy_digest",
    "hasher",
    "new_salt",
]

#: The hash of Disclosures when the payload has no ``_sd_alg`` (RFC 9901 §4.1.1).
DEFAULT_SD_ALG = "sha-256"
#: The ``_sd_alg`` values jwtkit computes: names of the IANA "Named Information Hash
#: Algorithm" registry (RFC 9901 §4.1.1) for full-length hashes only; the truncated ones
#: (``sha-256-32`` ...) are unfit (§9.4).
SD_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
    "sha3-256": hashlib.sha3_256,
    "sha3-384": hashlib.sha3_384,
    "sha3-512": hashlib.sha3_512,
}
#: Bits of randomness in a salt: RFC 9901 §9.3 recommends at least 128.
SALT_BITS = 128
#: Reserved names that never name a disclosed claim (RFC 9901 §4.2.1).
RESERVED_NAMES = frozenset({"_sd", "..."})


def hasher(name: str) -> Callable[[str], str]:
    """The digest function of ``_sd_alg`` ``name``: ASCII of a string -> base64url hash."""
    function = SD_ALGORITHMS.get(name)
    if function is None:
        raise UsageError(
            f"_sd_alg: {short(name)} is not supported; expected one of {sorted(SD_ALGORITHMS)}"
        )

    def digest(encoded: str) -> str:
        return b64url_encode(function(encoded.encode("ascii")).digest())

    return digest


def new_salt() -> str:
    """A fresh salt: 128 bits from :mod:`secrets`, base64url (RFC 9901 §4.2.1, §9.3)."""
    return b64url_encode(secrets.token_bytes(SALT_BITS // 8))


def decoy_digest(digest: Callable[[str], str]) -> str:
    """A decoy digest: the hash of 128 fresh random bits (RFC 9901 §4.2.5)."""
    return digest(new_salt())


@dataclass(frozen=True)
class Disclosure:
    """One Disclosure: its encoded form, salt, claim name (``None`` for an array element) and
    value. :meth:`create` makes one, :meth:`parse` reads one; ``str()`` is the encoded form."""

    encoded: str
    salt: str
    name: str | None
    value: Any

    def __str__(self) -> str:
        return self.encoded

    def __repr__(self) -> str:
        # Salts are secrets of the Holder (RFC 9901 §4.2.1): never shown.
        what = "array element" if self.name is None else repr(self.name)
        return f"Disclosure({what})"

    @classmethod
    def create(
        cls, salt: str, name: str | None, value: Any, *, ensure_ascii: bool = True
    ) -> Disclosure:
        """The Disclosure of an object property (``name`` given) or an array element
        (``name=None``), encoded as RFC 9901's examples are: JSON with ``", "`` between
        elements, non-ASCII characters escaped unless ``ensure_ascii=False`` (§4.2.1, §4.2.2).
        """
        if not isinstance(salt, str) or not salt:
            raise UsageError("salt: expected a non-empty string")
        if name is not None and (not isinstance(name, str) or name in RESERVED_NAMES):
            raise UsageError(f"claim name {short(name)} cannot be selectively disclosed")
        contents = [salt, value] if name is None else [salt, name, value]
        try:
            text = json.dumps(contents, ensure_ascii=ensure_ascii, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"the value of {short(name)} is not JSON: {exc}") from None
        return cls(b64url_encode(text.encode("utf-8")), salt, name, value)

    @classmethod
    def parse(cls, encoded: str) -> Disclosure:
        """Read a Disclosure; anything but a JSON array of a string salt and either a string
        name and a value, or a value, is an :class:`~jwtkit.errors.InvalidSDJWT`."""
        try:
            contents = json_loads_value(b64url_decode(encoded, "Disclosure"), "Disclosure")
        except MalformedToken as exc:
            raise InvalidSDJWT(exc.message) from None
        if type(contents) is not list or len(contents) not in (2, 3):
            raise InvalidSDJWT(
                f"Disclosure: expected a JSON array of 2 or 3 elements, got {json_type(contents)}"
                + (f" of {len(contents)}" if type(contents) is list else "")
                + " (RFC 9901 §4.2)"
            )
        salt = contents[0]
        if not isinstance(salt, str):
            raise InvalidSDJWT("Disclosure: the salt must be a string (RFC 9901 §4.2.1)")
        if len(contents) == 2:
            return cls(encoded, salt, None, contents[1])
        name = contents[1]
        if not isinstance(name, str):
            raise InvalidSDJWT("Disclosure: the claim name must be a string (RFC 9901 §4.2.1)")
        return cls(encoded, salt, name, contents[2])
