"""The outer shape of a DER-encoded key, told without reading the key itself.

``cryptography`` reports a key of an algorithm it does not know differently from release to
release (``UnsupportedAlgorithm`` from 47 on, ``ValueError`` before, like garbage). Two decisions
must not depend on that: a structure that *is* a key container is never an HMAC secret (security
matrix A2), and it is reported as an unsupported key type rather than as unreadable data.

This module only walks the DER tag-length-value headers (ITU-T X.690 §8.1.1-8.1.3) of the two
containers every key algorithm uses:

* ``SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT
  STRING }`` (RFC 5280 §4.1.1.2, §4.1.2.7);
* ``OneAsymmetricKey ::= SEQUENCE { version INTEGER, privateKeyAlgorithm AlgorithmIdentifier,
  privateKey OCTET STRING, ... }`` (RFC 5958 §2, PKCS#8),

where ``AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, ... }``; the OID says
which algorithm a container is for (ML-DSA keys on a ``cryptography`` that cannot read them get
an error naming the release needed). Nothing here decodes key material or verifies anything.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["key_algorithm", "key_container"]

_SEQUENCE = 0x30
_INTEGER = 0x02
_BIT_STRING = 0x03
_OCTET_STRING = 0x04
_OBJECT_IDENTIFIER = 0x06
#: Long-form lengths of more than four octets would describe more than 4 GiB: not a key.
_MAX_LENGTH_OCTETS = 4


def _element(data: bytes, offset: int, end: int) -> tuple[int, int, int] | None:
    """The (tag, content start, content end) of the element at ``offset``, or None when its
    header is not valid DER or its content runs past ``end``."""
    if offset + 2 > end:
        return None
    tag, first = data[offset], data[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > _MAX_LENGTH_OCTETS or start + count > end:
            return None
        length = int.from_bytes(data[start : start + count], "big")
        if data[start] == 0 or length < 0x80:  # DER takes the shortest form (X.690 §10.1)
            return None
        start += count
    if start + length > end:
        return None
    return tag, start, start + length


def _algorithm_identifier_at(data: bytes, offset: int, end: int) -> tuple[int, bytes] | None:
    """The end of an ``AlgorithmIdentifier`` at ``offset`` (a SEQUENCE that starts with an
    OBJECT IDENTIFIER) and the OID's contents, or None."""
    outer = _element(data, offset, end)
    if outer is None or outer[0] != _SEQUENCE:
        return None
    oid = _element(data, outer[1], outer[2])
    if oid is None or oid[0] != _OBJECT_IDENTIFIER or oid[2] == oid[1]:
        return None
    return outer[2], data[oid[1] : oid[2]]


def _container(
    data: bytes,
) -> tuple[Literal["SubjectPublicKeyInfo", "PrivateKeyInfo"], bytes] | None:
    """The container kind and its algorithm OID's contents, or None (see key_container)."""
    outer = _element(data, 0, len(data))
    if outer is None or outer[0] != _SEQUENCE or outer[2] != len(data):
        return None
    _, start, end = outer
    algorithm = _algorithm_identifier_at(data, start, end)
    if algorithm is not None:
        key = _element(data, algorithm[0], end)
        if key is not None and key[0] == _BIT_STRING:
            return "SubjectPublicKeyInfo", algorithm[1]
        return None
    version = _element(data, start, end)
    if version is None or version[0] != _INTEGER:
        return None
    algorithm = _algorithm_identifier_at(data, version[2], end)
    if algorithm is None:
        return None
    key = _element(data, algorithm[0], end)
    if key is not None and key[0] == _OCTET_STRING:
        return "PrivateKeyInfo", algorithm[1]
    return None


def key_container(data: bytes) -> Literal["SubjectPublicKeyInfo", "PrivateKeyInfo"] | None:
    """Which key container ``data`` is, by shape: a DER SEQUENCE that spans exactly all of
    ``data`` and starts like a ``SubjectPublicKeyInfo`` or a PKCS#8 ``PrivateKeyInfo``
    (``OneAsymmetricKey``); None for anything else."""
    found = _container(data)
    return None if found is None else found[0]


def key_algorithm(data: bytes) -> bytes | None:
    """The contents of the algorithm OBJECT IDENTIFIER of a key container (see
    :func:`key_container`), e.g. ``60 86 48 01 65 03 04 03 11`` for ML-DSA-44; None when
    ``data`` is not a key container."""
    found = _container(data)
    return None if found is None else found[1]
