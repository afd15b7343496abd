"""What JWE encryption and decryption share (RFC 7516): the limits, the result type, ``zip``,
``dir`` keys bound to an ``enc``, and disjoint headers.

* :data:`DEFAULT_MAX_DECOMPRESSED_SIZE`, :data:`DEFAULT_MAX_PBES2_COUNT`,
  :data:`DEFAULT_MAX_RECIPIENTS`: the default caps of decryption (security matrix C5, C6, D1);
* :class:`DecryptedJWE`: what a successful decryption returns;
* ``zip: DEF`` (RFC 7516 §4.1.3): raw DEFLATE out, capped inflation in (C6);
* a ``dir`` key whose own ``alg`` names its ``enc`` (RFC 7520 §5.6);
* header names disjoint across the protected, shared and per-recipient headers (§7.2.1, A8).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._codec import (
    DEFAULT_MAX_JSON_ENTRIES,
)
from ._jwa_content import ContentEncryptionAlgorithm
from ._messages import short
from ._types import Header
from .errors import (
    MalformedToken,
    TokenTooLarge,
)
from .jwa import (
    PBES2_HS256_A128KW,
    PBES2_HS384_A192KW,
    PBES2_HS512_A256KW,
    RSA1_5,
)
from .jwk import Key, OctKey

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "DEFAULT_MAX_PBES2_COUNT",
    "DEFAULT_MAX_RECIPIENTS",
    "DecryptedJWE",
]

#: Default cap on a ``zip: DEF`` plaintext after decompression, in bytes (security matrix C6).
DEFAULT_MAX_DECOMPRESSED_SIZE = 250_000
#: Default cap on the PBES2 iteration count ``p2c`` a token may ask for (security matrix C5).
DEFAULT_MAX_PBES2_COUNT = 600_000
#: Default upper bound on the recipients of a JWE in JSON serialization, the bound on the
#: signatures of a JWS (security matrix D1): the sender must not choose how many key unwraps a
#: message costs.
DEFAULT_MAX_RECIPIENTS = DEFAULT_MAX_JSON_ENTRIES

#: ``zip`` values this library understands (RFC 7516 §4.1.3, RFC 7518 §7.3).
_ZIP_DEFLATE = "DEF"
#: How to name the opt-in constants in error messages.
_OPT_IN_CONSTANTS = {
    RSA1_5.name: "RSA1_5",
    PBES2_HS256_A128KW.name: "PBES2_HS256_A128KW",
    PBES2_HS384_A192KW.name: "PBES2_HS384_A192KW",
    PBES2_HS512_A256KW.name: "PBES2_HS512_A256KW",
}


@dataclass(frozen=True)
class DecryptedJWE:
    """The result of a successful decryption: the plaintext, and what protected it.

    ``header`` is the protected header (``{}`` for a JSON JWE without one). The JSON
    serialization also reports the shared ``unprotected`` header, the header of the recipient
    whose key decrypted (``recipient_header``), that recipient's position
    (``recipient_index``, 0 for flattened JSON) and the JWE AAD (``aad``); the compact
    serialization leaves them ``None``.

    .. warning:: Only ``header`` is integrity protected. Values in ``unprotected`` and
       ``recipient_header`` can be changed by anyone on the way (RFC 7516 §7.2.1).
    """

    header: Header
    plaintext: bytes
    #: The key-management algorithm (``alg``) and content encryption (``enc``) used.
    algorithm: str
    encryption: str
    #: The trusted key that decrypted.
    key: Key
    unprotected: Header | None = None
    recipient_header: Header | None = None
    recipient_index: int | None = None
    aad: bytes | None = None

    @property
    def joint_header(self) -> Header:
        """The union of the protected, shared and per-recipient headers (RFC 7516 §7.2.1)."""
        return {**self.header, **(self.unprotected or {}), **(self.recipient_header or {})}


def _inflate(data: bytes, limit: int) -> bytes:
    """Raw DEFLATE (RFC 1951) decompression that stops past ``limit`` bytes (C6)."""
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise MalformedToken("zip: the plaintext is not valid DEFLATE data") from None
    if len(out) > limit:
        raise TokenTooLarge(
            f"zip: the decompressed plaintext is larger than {limit} bytes (max_decompressed_size)"
        )
    if not inflater.eof or inflater.unused_data:
        raise MalformedToken("zip: the plaintext is not one complete DEFLATE stream")
    return out


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _as_dir_key(key: Key, enc: ContentEncryptionAlgorithm) -> Key:
    """For ``dir``: an ``oct`` key whose own ``alg`` names the ``enc`` it is the CEK of.

    RFC 7520 §5.6 gives its ``dir`` key ``"alg": "A128GCM"``. Such a key still serves exactly
    one algorithm (that content encryption, RFC 8725 §3.1), so it is used as a ``dir`` key for
    that ``enc`` only; any other key is returned unchanged.
    """
    if not isinstance(key, OctKey) or key.alg != enc.name:
        return key
    return OctKey(
        key.secret,
        kid=key.kid,
        use=key.use,
        key_ops=key.key_ops,
        alg="dir",
        allow_weak=key.allow_weak,
    )


def _disjoint(*headers: Mapping[str, Any] | None) -> None:
    """RFC 7516 §7.2.1: no name in more than one of the headers (security matrix A8)."""
    seen: set[str] = set()
    for header in headers:
        if header is None:
            continue
        for name in header:
            if name in seen:
                raise MalformedToken(
                    f"JWE JSON: header parameter {short(name)} appears in more than one header "
                    "(RFC 7516 §7.2.1)"
                )
            seen.add(name)
