"""The abstract :class:`Key`: metadata, the usability check, equality, repr and the factories.

Every concrete key type (``oct``, ``RSA``, ``EC``, ``OKP``) derives from :class:`Key`. This
module holds what they share:

* the JWK metadata members ``kid``, ``use``, ``key_ops``, ``alg`` (RFC 7517 §4.2-4.5) and the
  X.509 members, validated once at construction, after which a key is immutable;
* :meth:`Key.supports` and :meth:`Key.check_usable`: one key, one algorithm (RFC 8725 §3.1,
  security matrix A3);
* JWK export and RFC 7638 thumbprints, equality and a repr that never shows key material (F4);
* the class-level factories (``generate``, ``from_jwk``, ``from_pem``, ...), which dispatch to
  :mod:`jwtkit._keys.factory`.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from .._messages import short
from ..errors import InvalidKey, UntrustedCertificate, UsageError
from .certificates import check_x509_members
from .formats import load_der, load_pem, load_ssh
from .requirements import (
    ALGORITHM_REQUIREMENTS,
    ENCRYPTION_OPERATIONS,
    KEY_OPERATIONS,
    PRIVATE_OPERATIONS,
    SIGNATURE_OPERATIONS,
    AlgorithmRequirement,
)
from .thumbprint import thumbprint, thumbprint_uri

if TYPE_CHECKING:
    from .chains import ChainPolicy

__all__ = ["Key", "KeyT", "describe_requirement"]

KeyT = TypeVar("KeyT", bound="Key")

_USES = ("sig", "enc")


def _check_kid(kid: object) -> str | None:
    if kid is None or isinstance(kid, str):
        return kid
    raise InvalidKey(f"'kid' must be a string (RFC 7517 §4.5), got {short(kid)}")


def _check_use(use: object) -> str | None:
    if use is None:
        return None
    if use not in _USES:
        raise InvalidKey(f'\'use\' must be "sig" or "enc" (RFC 7517 §4.2), got {short(use)}')
    return str(use)


def _check_key_ops(key_ops: object, use: str | None) -> tuple[str, ...] | None:
    if key_ops is None:
        return None
    if isinstance(key_ops, (str, bytes)) or not isinstance(key_ops, Sequence):
        raise InvalidKey(f"'key_ops' must be an array of strings, got {short(key_ops)}")
    ops: list[str] = []
    for op in key_ops:
        if not isinstance(op, str):
            raise InvalidKey(f"'key_ops' must hold strings only, got {short(op)}")
        if op in ops:
            raise InvalidKey(f"'key_ops' lists {short(op)} twice (RFC 7517 §4.3)")
        ops.append(op)
    allowed = {"sig": SIGNATURE_OPERATIONS, "enc": ENCRYPTION_OPERATIONS}.get(use or "")
    if allowed is not None:
        wrong = [op for op in ops if op in KEY_OPERATIONS and op not in allowed]
        if wrong:
            raise InvalidKey(
                f"'use' {use!r} and 'key_ops' {short(wrong[0])} contradict each other "
                "(RFC 7517 §4.3)"
            )
    return tuple(ops)


def _check_alg(alg: object) -> str | None:
    if alg is None:
        return None
    if not isinstance(alg, str):
        raise InvalidKey(f"'alg' must be a string (RFC 7517 §4.4), got {short(alg)}")
    if not alg:
        raise InvalidKey("'alg' must not be empty")
    return alg


def describe_requirement(requirement: AlgorithmRequirement) -> str:
    """Say in words which keys fit, e.g. ``"an EC key on P-256"``."""
    by_kty: dict[str, list[str]] = {}
    for kty, crv in sorted(requirement.kinds, key=lambda kind: (kind[0], kind[1] or "")):
        by_kty.setdefault(kty, [])
        if crv is not None:
            by_kty[kty].append(crv)
    parts = []
    for kty, curves in by_kty.items():
        text = f"an {kty} key"
        if curves:
            text += (" for " if kty == "AKP" else " on ") + (
                curves[0] if len(curves) == 1 else ", ".join(curves[:-1]) + " or " + curves[-1]
            )
        if requirement.secret_length is not None:
            text += f" of exactly {requirement.secret_length} bytes"
        parts.append(text)
    return " or ".join(parts)


class Key(abc.ABC):
    """A JSON Web Key (RFC 7517): key material plus the metadata that limits its use.

    Keys are immutable and compare equal when they have the same class, the same key material
    and the same ``kid``/``use``/``key_ops``/``alg``. Their ``repr`` never shows key material.

    .. warning:: A key without ``alg`` can serve every algorithm of its type; give keys an
       ``alg`` (``Key.generate("ES256")`` does) so that each key serves exactly one
       (RFC 8725 §3.1).
    """

    kty: ClassVar[str]
    kid: str | None
    use: str | None
    key_ops: tuple[str, ...] | None
    alg: str | None
    #: The certificate chain (standard base64 DER, leaf first), RFC 7517 §4.7.
    x5c: tuple[str, ...] | None
    #: The SHA-1 / SHA-256 certificate thumbprints, RFC 7517 §4.8-4.9.
    x5t: str | None
    x5t_s256: str | None

    # -- immutability ----------------------------------------------------------------------

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} objects are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} objects are immutable")

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def _init_metadata(
        self,
        *,
        kid: object,
        use: object,
        key_ops: object,
        alg: object,
        x5c: object = None,
        x5t: object = None,
        x5t_s256: object = None,
    ) -> None:
        """Validate and store the metadata; the key material must already be set."""
        checked_use = _check_use(use)
        checked_alg = _check_alg(alg)
        self._set("kid", _check_kid(kid))
        self._set("use", checked_use)
        self._set("key_ops", _check_key_ops(key_ops, checked_use))
        self._set("alg", checked_alg)
        requirement = ALGORITHM_REQUIREMENTS.get(checked_alg or "")
        if requirement is not None and checked_alg is not None and not self.supports(checked_alg):
            raise InvalidKey(
                f"{self._label()} cannot carry 'alg' {checked_alg!r}: that algorithm needs "
                f"{describe_requirement(requirement)}"
            )
        x509 = check_x509_members(x5c, x5t, x5t_s256, self._spki_der())
        self._set("x5c", x509.x5c)
        self._set("x5t", x509.x5t)
        self._set("x5t_s256", x509.x5t_s256)

    # -- what each key type provides -------------------------------------------------------

    @property
    @abc.abstractmethod
    def is_private(self) -> bool:
        """``True`` when the key holds private (or secret) material. Always ``True`` for oct."""

    @abc.abstractmethod
    def _describe(self) -> str:
        """Size or curve in a few words, e.g. ``"2048 bits"`` or ``"P-256"``; no material."""

    @abc.abstractmethod
    def _kind(self) -> tuple[str | None, int | None]:
        """``(crv, secret_length)`` as :meth:`AlgorithmRequirement.fits` wants them."""

    @abc.abstractmethod
    def _jwk_members(self, private: bool) -> dict[str, str]:
        """The key-material members of the JWK (``n``, ``e``, ``x``, ``k``, ...)."""

    @abc.abstractmethod
    def _thumbprint_members(self) -> dict[str, str]:
        """The required members of RFC 7638 §3.2, including ``kty``."""

    @abc.abstractmethod
    def _spki_der(self) -> bytes | None:
        """The public key as DER SubjectPublicKeyInfo; ``None`` for a symmetric key."""

    @abc.abstractmethod
    def _same_material(self, other: Key) -> bool:
        """``True`` when ``other`` (of the same class) has the same key material."""

    @abc.abstractmethod
    def _material_hash(self) -> int:
        """A hash of the key material, consistent with :meth:`_same_material`."""

    @abc.abstractmethod
    def public_key(self: KeyT) -> KeyT:
        """The public half (of the same class), with the same metadata minus private ``key_ops``.

        Raises :class:`~jwtkit.errors.InvalidKey` for a symmetric key, which has no public half.
        """

    @abc.abstractmethod
    def to_pem(self, private: bool = False, password: bytes | str | None = None) -> bytes:
        """PEM: PKCS#8 (encrypted when ``password`` is given) or SubjectPublicKeyInfo."""

    def _check_strength(self, alg: str, operation: str) -> None:  # noqa: B027 - optional hook
        """Raise when the key is too weak for ``alg``/``operation``; most keys are never."""

    # -- usability -------------------------------------------------------------------------

    def supports(self, alg: str) -> bool:
        """``True`` when the key's type, curve (and, for AES key wrap, length) fit ``alg``.

        Covers JWS (RFC 7518 §3.1, RFC 8037 §3.1, RFC 8812 §3.2, RFC 9864 §2, RFC 9964 §5) and JWE
        key-management (RFC 7518 §4.1, RFC 8037 §3.2) names. ``"none"`` and unknown names
        give ``False``. Metadata (``alg``, ``use``, ``key_ops``) is not consulted here; see
        :meth:`check_usable`.
        """
        requirement = ALGORITHM_REQUIREMENTS.get(alg) if isinstance(alg, str) else None
        if requirement is None:
            return False
        crv, length = self._kind()
        return requirement.fits(self.kty, crv, length)

    def check_usable(self, alg: str, operation: str) -> None:
        """Raise :class:`~jwtkit.errors.InvalidKey` unless the key may ``operation`` with ``alg``.

        All of these must agree (RFC 8725 §3.1, RFC 7517 §4.2-4.4, security matrix A3): the
        key type fits ``alg``; the key's own ``alg``, if any, equals it byte for byte; ``use``
        allows the operation; ``key_ops``, if any, lists it; operations that need the private
        half have it; and the key is strong enough (HMAC secrets at least as long as the hash,
        RFC 7518 §3.2; RSA keys below 2048 bits only verify). ``operation`` is one of the
        RFC 7517 §4.3 ``key_ops`` values.
        """
        if not isinstance(operation, str) or operation not in KEY_OPERATIONS:
            raise InvalidKey(
                f"unknown key operation {short(operation)}; expected one of "
                + ", ".join(sorted(KEY_OPERATIONS))
                + " (RFC 7517 §4.3)"
            )
        requirement = ALGORITHM_REQUIREMENTS.get(alg) if isinstance(alg, str) else None
        if requirement is None:
            raise InvalidKey(f"no key can be used with algorithm {short(alg)}")
        if not self.supports(alg):
            raise InvalidKey(
                f"{self._label()} does not fit {alg}: it needs {describe_requirement(requirement)}"
            )
        if self.alg is not None and self.alg != alg:
            raise InvalidKey(
                f"{self._label()} is restricted to 'alg' {short(self.alg)} and cannot be used with "
                f"{alg} (RFC 8725 §3.1)"
            )
        family_ops = SIGNATURE_OPERATIONS if requirement.family == "sig" else ENCRYPTION_OPERATIONS
        if operation not in family_ops:
            kind = "a signature" if requirement.family == "sig" else "an encryption"
            raise InvalidKey(f"{alg} is {kind} algorithm; it has no {operation!r} operation")
        if self.use is not None and self.use != requirement.family:
            raise InvalidKey(
                f"{self._label()} has 'use' {self.use!r} and cannot {operation} with {alg} "
                "(RFC 7517 §4.2)"
            )
        if self.key_ops is not None and operation not in self.key_ops:
            raise InvalidKey(f"{self._label()} has 'key_ops' without {operation!r} (RFC 7517 §4.3)")
        if operation in PRIVATE_OPERATIONS and not self.is_private:
            raise InvalidKey(
                f"{self._label()} is a public key; {operation!r} needs the private key"
            )
        self._check_strength(alg, operation)

    # -- export ----------------------------------------------------------------------------

    def to_jwk(self, private: bool = False) -> dict[str, Any]:
        """The key as a JWK dict, with ``kid``/``use``/``key_ops``/``alg``/``x5c``... when set.

        ``private=True`` adds the private members; on a public key it raises
        :class:`~jwtkit.errors.InvalidKey`.
        """
        if private and not self.is_private:
            raise InvalidKey(f"{self._label()} is public; it has no private members to export")
        jwk: dict[str, Any] = {"kty": self.kty}
        jwk.update(self._jwk_members(private))
        if self.kid is not None:
            jwk["kid"] = self.kid
        if self.use is not None:
            jwk["use"] = self.use
        if self.key_ops is not None:
            jwk["key_ops"] = list(self.key_ops)
        if self.alg is not None:
            jwk["alg"] = self.alg
        if self.x5c is not None:
            jwk["x5c"] = list(self.x5c)
        if self.x5t is not None:
            jwk["x5t"] = self.x5t
        if self.x5t_s256 is not None:
            jwk["x5t#S256"] = self.x5t_s256
        return jwk

    def verify_certificate_chain(self, policy: ChainPolicy) -> None:
        """Validate the key's own ``x5c`` chain against ``policy``'s trust anchors.

        RFC 7517 §4.7: the first certificate holds this key (checked when the key was made);
        the chain must lead to an anchor under ``policy`` (a :class:`jwtkit.x509.ChainPolicy`).
        Returns nothing; raises :class:`~jwtkit.errors.UntrustedCertificate` (reason
        ``"missing"`` when the key has no ``x5c``).
        """
        from .chains import ChainPolicy  # noqa: PLC0415 - chains imports this module

        if not isinstance(policy, ChainPolicy):
            raise UsageError(
                f"policy: expected a jwtkit.x509.ChainPolicy, got {type(policy).__name__}"
            )
        if self.x5c is None:
            raise UntrustedCertificate(
                "missing", f"{self._label()} has no 'x5c' certificate chain to validate"
            )
        policy.verify_chain(self.x5c)

    def thumbprint(self, hash_name: str = "sha256") -> str:
        """The RFC 7638 JWK Thumbprint, base64url; ``hash_name`` is sha256, sha384 or sha512."""
        return thumbprint(self._thumbprint_members(), hash_name)

    def thumbprint_uri(self, hash_name: str = "sha256") -> str:
        """The RFC 9278 URI ``urn:ietf:params:oauth:jwk-thumbprint:sha-256:<thumbprint>``."""
        return thumbprint_uri(self._thumbprint_members(), hash_name)

    # -- identity --------------------------------------------------------------------------

    def _metadata(self) -> tuple[object, ...]:
        return (self.kid, self.use, self.key_ops, self.alg)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        if type(other) is not type(self):
            return False
        return self._metadata() == other._metadata() and self._same_material(other)

    def __hash__(self) -> int:
        # Keys are immutable, so the hash is computed once (keys are used as cache keys).
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((type(self).__name__, self._metadata(), self._material_hash()))
            self._set("_hash", cached)
        return cached

    def _label(self) -> str:
        text = f"{self.kty} key ({self._describe()}"
        if self.kid is not None:
            text += f", kid {short(self.kid)}"
        return text + ")"

    def __repr__(self) -> str:
        parts = [f"<{type(self).__name__} kty={self.kty!r} {self._describe()}"]
        if self.kid is not None:
            parts.append(f"kid={short(self.kid)}")
        if self.alg is not None:
            parts.append(f"alg={short(self.alg)}")
        parts.append("private>" if self.is_private else "public>")
        return " ".join(parts)

    __str__ = __repr__

    # -- factories -------------------------------------------------------------------------

    @classmethod
    def _expect(cls: type[KeyT], key: Key, source: str) -> KeyT:
        if not isinstance(key, cls):
            raise InvalidKey(f"{cls.__name__}.{source}: the input holds an {key.kty} key")
        return key

    @classmethod
    def generate(
        cls: type[KeyT],
        alg_or_kty: str | None = None,
        *,
        size: int | None = None,
        crv: str | None = None,
        kid: str | None = None,
        use: str | None = None,
        key_ops: Sequence[str] | None = None,
    ) -> KeyT:
        """A new random key for an algorithm (``"ES256"``, ``"HS256"``, ...) or a ``kty``.

        An algorithm name sets the key's ``alg``; a ``kty`` (``"oct"``, ``"RSA"``, ``"EC"``,
        ``"OKP"``) leaves it unset, except ``"AKP"``, whose keys always name their algorithm
        (ML-DSA-65 unless ``"ML-DSA-44"`` or ``"ML-DSA-87"`` is asked for, RFC 9964 §3).
        ``size`` is in bits (oct: default 256, RSA: default 2048, never below); ``crv`` picks the
        curve for EC (default P-256) and OKP (default Ed25519). On a subclass the argument may be
        left out: ``ECKey.generate()`` is a P-256 key.
        """
        from .factory import generate_key  # noqa: PLC0415 - factory imports the subclasses

        if alg_or_kty is None:
            default_kind: str | None = getattr(cls, "kty", None)
            if default_kind is None:
                raise InvalidKey("Key.generate: name an algorithm or a kty, e.g. 'ES256'")
            alg_or_kty = default_kind
        key = generate_key(alg_or_kty, size=size, crv=crv, kid=kid, use=use, key_ops=key_ops)
        return cls._expect(key, "generate")

    @classmethod
    def from_jwk(
        cls: type[KeyT], jwk: Mapping[str, Any] | str | bytes, *, allow_weak: bool = False
    ) -> KeyT:
        """Import a JWK (a mapping or its JSON text), validating every member (RFC 7517 §4).

        ``allow_weak=True`` admits RSA keys below 2048 bits (for legacy verification only) and
        well-known HMAC secrets; nothing admits a public key as an HMAC secret.
        """
        from .factory import key_from_jwk  # noqa: PLC0415 - factory imports the subclasses

        return cls._expect(key_from_jwk(jwk, allow_weak=allow_weak), "from_jwk")

    @classmethod
    def from_pem(
        cls: type[KeyT],
        data: bytes | str,
        password: bytes | str | None = None,
        *,
        kid: str | None = None,
        alg: str | None = None,
        use: str | None = None,
        key_ops: Sequence[str] | None = None,
        allow_weak: bool = False,
    ) -> KeyT:
        """Import PEM text: PKCS#8 (encrypted or not), SPKI, PKCS#1, SEC1, an X.509
        certificate (its public key), or OpenSSH public/private keys.

        Never returns an :class:`OctKey`: there is no PEM form of a symmetric key.
        """
        from .factory import key_from_crypto  # noqa: PLC0415 - factory imports the subclasses

        obj = load_pem(data, password)
        key = key_from_crypto(
            obj, kid=kid, alg=alg, use=use, key_ops=key_ops, allow_weak=allow_weak
        )
        return cls._expect(key, "from_pem")

    @classmethod
    def from_der(
        cls: type[KeyT],
        data: bytes,
        password: bytes | str | None = None,
        *,
        kid: str | None = None,
        alg: str | None = None,
        use: str | None = None,
        key_ops: Sequence[str] | None = None,
        allow_weak: bool = False,
    ) -> KeyT:
        """Import DER: a private key (PKCS#8, PKCS#1, SEC1), a public key, or a certificate."""
        from .factory import key_from_crypto  # noqa: PLC0415 - factory imports the subclasses

        obj = load_der(data, password)
        key = key_from_crypto(
            obj, kid=kid, alg=alg, use=use, key_ops=key_ops, allow_weak=allow_weak
        )
        return cls._expect(key, "from_der")

    @classmethod
    def from_ssh(
        cls: type[KeyT],
        data: bytes | str,
        password: bytes | str | None = None,
        *,
        kid: str | None = None,
        alg: str | None = None,
        use: str | None = None,
        key_ops: Sequence[str] | None = None,
        allow_weak: bool = False,
    ) -> KeyT:
        """Import an OpenSSH public key line (``ssh-ed25519 AAAA...``) or private key."""
        from .factory import key_from_crypto  # noqa: PLC0415 - factory imports the subclasses

        obj = load_ssh(data, password)
        key = key_from_crypto(
            obj, kid=kid, alg=alg, use=use, key_ops=key_ops, allow_weak=allow_weak
        )
        return cls._expect(key, "from_ssh")

    @classmethod
    def from_cryptography(
        cls: type[KeyT],
        obj: object,
        *,
        kid: str | None = None,
        alg: str | None = None,
        use: str | None = None,
        key_ops: Sequence[str] | None = None,
        allow_weak: bool = False,
    ) -> KeyT:
        """Wrap a ``cryptography`` key object (or an ``x509.Certificate``: its public key)."""
        from .factory import key_from_crypto  # noqa: PLC0415 - factory imports the subclasses

        key = key_from_crypto(
            obj, kid=kid, alg=alg, use=use, key_ops=key_ops, allow_weak=allow_weak
        )
        return cls._expect(key, "from_cryptography")
