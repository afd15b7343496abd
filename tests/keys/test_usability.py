"""Key.supports (the algorithm -> key type table) and Key.check_usable (RFC 8725 §3.1)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jwtkit.errors import InvalidKey
from jwtkit.jwk import Key, OctKey

KEYS: dict[str, Callable[[], Key]] = {
    "oct16": lambda: OctKey(b"k" * 16, allow_weak=True),
    "oct24": lambda: OctKey(b"k" * 24, allow_weak=True),
    "oct32": lambda: OctKey(b"k" * 32),
    "oct64": lambda: OctKey(b"k" * 64),
    "RSA": lambda: Key.generate("RSA"),
    "P-256": lambda: Key.generate("EC", crv="P-256"),
    "P-384": lambda: Key.generate("EC", crv="P-384"),
    "P-521": lambda: Key.generate("EC", crv="P-521"),
    "secp256k1": lambda: Key.generate("EC", crv="secp256k1"),
    "Ed25519": lambda: Key.generate("OKP", crv="Ed25519"),
    "Ed448": lambda: Key.generate("OKP", crv="Ed448"),
    "X25519": lambda: Key.generate("OKP", crv="X25519"),
    "X448": lambda: Key.generate("OKP", crv="X448"),
}
OCT = {"oct16", "oct24", "oct32", "oct64"}
ECDH = {"P-256", "P-384", "P-521", "X25519", "X448"}
SUPPORTED = {
    "HS256": OCT, "HS384": OCT, "HS512": OCT,
    "RS256": {"RSA"}, "RS384": {"RSA"}, "RS512": {"RSA"},
    "PS256": {"RSA"}, "PS384": {"RSA"}, "PS512": {"RSA"},
    "ES256": {"P-256"}, "ES384": {"P-384"}, "ES512": {"P-521"}, "ES256K": {"secp256k1"},
    "EdDSA": {"Ed25519", "Ed448"}, "Ed25519": {"Ed25519"}, "Ed448": {"Ed448"},
    "RSA1_5": {"RSA"}, "RSA-OAEP": {"RSA"}, "RSA-OAEP-256": {"RSA"},
    "RSA-OAEP-384": {"RSA"}, "RSA-OAEP-512": {"RSA"},
    "A128KW": {"oct16"}, "A192KW": {"oct24"}, "A256KW": {"oct32"},
    "A128GCMKW": {"oct16"}, "A192GCMKW": {"oct24"}, "A256GCMKW": {"oct32"},
    "dir": OCT, "PBES2-HS256+A128KW": OCT, "PBES2-HS384+A192KW": OCT, "PBES2-HS512+A256KW": OCT,
    "ECDH-ES": ECDH, "ECDH-ES+A128KW": ECDH, "ECDH-ES+A192KW": ECDH, "ECDH-ES+A256KW": ECDH,
    "none": set(), "None": set(), "NONE": set(), "HS1": set(), "A128GCM": set(), "": set(),
    "es256": set(), "RS256 ": set(),
}  # fmt: skip


@pytest.fixture(scope="module")
def keys() -> dict[str, Key]:
    return {name: make() for name, make in KEYS.items()}


@pytest.mark.parametrize("alg", sorted(SUPPORTED))
def test_supports_table(alg: str, keys: dict[str, Key]) -> None:
    fitting = {name for name, key in keys.items() if key.supports(alg)}
    assert fitting == SUPPORTED[alg]


def test_supports_refuses_non_strings(keys: dict[str, Key]) -> None:
    assert not keys["RSA"].supports(None)  # type: ignore[arg-type]
    assert not keys["RSA"].supports(b"RS256")  # type: ignore[arg-type]


@pytest.mark.parametrize("operation", ["Sign", "sig", "", "verify ", None, 1])
def test_check_usable_refuses_unknown_operations(operation: object) -> None:
    with pytest.raises(InvalidKey, match="unknown key operation"):
        Key.generate("ES256").check_usable("ES256", operation)  # type: ignore[arg-type]


def test_check_usable_refuses_operations_of_the_other_family() -> None:
    signing = Key.generate("ES256")
    with pytest.raises(InvalidKey, match="a signature algorithm; it has no 'encrypt'"):
        signing.check_usable("ES256", "encrypt")
    encrypting = Key.generate("ECDH-ES")
    with pytest.raises(InvalidKey, match="an encryption algorithm; it has no 'sign'"):
        encrypting.check_usable("ECDH-ES", "sign")


def test_check_usable_success_paths() -> None:
    key = Key.generate("EC", use="enc", key_ops=["deriveKey", "deriveBits", "wrapKey"])
    for operation in ("deriveKey", "deriveBits"):
        key.check_usable("ECDH-ES", operation)
    key.check_usable("ECDH-ES+A128KW", "wrapKey")
    with pytest.raises(InvalidKey, match="'key_ops' without 'unwrapKey'"):
        key.check_usable("ECDH-ES+A128KW", "unwrapKey")
    public = key.public_key()
    assert public.key_ops == ("wrapKey",)
    public.check_usable("ECDH-ES+A256KW", "wrapKey")
    with pytest.raises(InvalidKey, match="needs the private key"):
        Key.generate("EC").public_key().check_usable("ECDH-ES", "deriveBits")
    oct_key = OctKey.generate("A128KW")
    oct_key.check_usable("A128KW", "wrapKey")
    oct_key.check_usable("A128KW", "unwrapKey")
    with pytest.raises(InvalidKey, match="exactly 16 bytes"):
        OctKey.generate(256).check_usable("A128KW", "wrapKey")


def test_check_usable_messages_name_the_key_without_material() -> None:
    key = Key.generate("ES256", kid="my-kid")
    with pytest.raises(InvalidKey) as info:
        key.check_usable("RS256", "verify")
    assert "EC key (crv='P-256', kid 'my-kid') does not fit RS256" in info.value.message
    assert "needs an RSA key" in info.value.message
    long_kid = Key.generate("ES256", kid="x" * 500)
    with pytest.raises(InvalidKey) as info:
        long_kid.check_usable("RS256", "verify")
    assert "x" * 61 not in info.value.message
    with pytest.raises(InvalidKey, match="an EC key on P-256, P-384 or P-521 or an OKP key"):
        OctKey.generate().check_usable("ECDH-ES", "deriveKey")
