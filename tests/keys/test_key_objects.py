"""Key and KeySet as Python objects: immutability, equality, hashing, repr, thumbprints, API."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jwtkit import jwk as jwk_module
from jwtkit._codec import b64url_encode
from jwtkit._keys import base
from jwtkit.errors import InvalidKey, MalformedToken
from jwtkit.jwk import ECKey, Key, KeySet, OctKey, OKPKey, RSAKey, SkippedKey


def test_public_module_exports() -> None:
    assert set(jwk_module.__all__) == {
        "AKPKey", "ECKey", "Key", "KeySet", "OKPKey", "OctKey", "RSAKey", "SkippedKey"
    }  # fmt: skip
    for name in jwk_module.__all__:
        assert getattr(jwk_module, name).__module__.startswith("jwtkit._keys")
    assert {cls.kty for cls in (OctKey, RSAKey, ECKey, OKPKey)} == {"oct", "RSA", "EC", "OKP"}
    assert base.__all__


def test_keys_are_immutable() -> None:
    key = Key.generate("ES256", kid="a")
    with pytest.raises(AttributeError, match="immutable"):
        key.kid = "b"
    with pytest.raises(AttributeError, match="immutable"):
        del key.kid
    oct_key = OctKey.generate()
    with pytest.raises(AttributeError, match="immutable"):
        oct_key.secret = b"x"
    keyset = KeySet([key])
    with pytest.raises(AttributeError, match="immutable"):
        keyset.keys = ()
    with pytest.raises(AttributeError, match="immutable"):
        del keyset.keys
    skipped = SkippedKey(0, None, "reason")
    with pytest.raises(AttributeError):
        skipped.reason = "other"  # type: ignore[misc]


def test_equality_and_hash() -> None:
    key = Key.generate("ES256", kid="a")
    jwk = key.to_jwk(private=True)
    same = Key.from_jwk(jwk)
    assert key == same
    assert hash(key) == hash(same)
    assert len({key, same}) == 1
    assert key != Key.from_jwk({**jwk, "kid": "b"})
    assert key != Key.from_jwk({**jwk, "use": "sig"})
    assert key != Key.from_jwk({**jwk, "key_ops": ["sign"]})
    assert key != Key.from_jwk({name: value for name, value in jwk.items() if name != "alg"})
    assert key != key.public_key()
    assert key != Key.generate("ES256", kid="a")
    assert key != "not a key"
    assert key != OctKey(b"z" * 32, kid="a")
    secret = OctKey(b"s" * 32)
    assert secret == OctKey("s" * 32)
    assert secret != OctKey(b"t" * 32)
    assert hash(secret) == hash(OctKey(b"s" * 32))


def test_private_material_takes_part_in_equality(rsa_private: rsa.RSAPrivateKey) -> None:
    key = Key.from_cryptography(rsa_private)
    public = key.public_key()
    assert public == Key.from_cryptography(rsa_private.public_key())
    assert key == Key.from_cryptography(rsa_private)


def test_repr_and_str() -> None:
    assert (
        repr(Key.generate("ES256", kid="k"))
        == "<ECKey kty='EC' crv='P-256' kid='k' alg='ES256' private>"
    )
    assert str(OctKey(b"q" * 32)) == "<OctKey kty='oct' size=256 private>"
    public = Key.generate("RS256").public_key()
    assert repr(public) == "<RSAKey kty='RSA' size=2048 alg='RS256' public>"
    okp = Key.generate("OKP", crv="X448", kid="\x00evil")
    assert repr(okp) == "<OKPKey kty='OKP' crv='X448' kid='\\x00evil' private>"
    keyset = KeySet([okp])
    assert repr(keyset).startswith("<KeySet 1 keys: [<OKPKey")
    partial = KeySet.from_jwks({"keys": [1, okp.public_key().to_jwk()]})
    assert "1 skipped" in repr(partial)


def test_thumbprint_hashes_and_uri() -> None:
    key = Key.from_jwk({"kty": "OKP", "crv": "Ed25519",
                        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})  # fmt: skip
    assert (
        key.thumbprint()
        == key.thumbprint("SHA-256")
        == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    )
    assert len(key.thumbprint("sha384")) == 64
    assert len(key.thumbprint("sha512")) == 86
    assert key.thumbprint_uri("sha512").startswith("urn:ietf:params:oauth:jwk-thumbprint:sha-512:")
    assert key.thumbprint_uri("sha384").startswith("urn:ietf:params:oauth:jwk-thumbprint:sha-384:")
    for bad in ("md5", "sha1", "", None):
        with pytest.raises(InvalidKey, match="unsupported thumbprint hash"):
            key.thumbprint(bad)  # type: ignore[arg-type]
    with_metadata = Key.from_jwk({**key.to_jwk(), "kid": "x", "use": "sig", "alg": "EdDSA"})
    assert with_metadata.thumbprint() == key.thumbprint()


def test_oct_key_export_rules() -> None:
    key = OctKey(b"e" * 32, kid="h", alg="HS256")
    with pytest.raises(InvalidKey, match="no public form"):
        key.to_jwk()
    expected = {"kty": "oct", "k": b64url_encode(b"e" * 32), "kid": "h", "alg": "HS256"}
    assert key.to_jwk(private=True) == expected
    with pytest.raises(InvalidKey, match="no public key"):
        key.public_key()
    assert key.is_private
    assert not key.allow_weak


def test_keyset_api() -> None:
    a = Key.generate("ES256", kid="a")
    b = Key.generate("RS256", kid="b")
    keyset = KeySet(iter([a, b]))
    assert len(keyset) == 2
    assert list(keyset) == [a, b]
    assert keyset[0] is a
    assert keyset[-1] is b
    assert a in keyset
    assert "a" not in keyset
    assert keyset.get("a") == (a,)
    assert keyset.get("missing") == ()
    assert keyset.select(None, "ES256", "sign") == (a,)
    assert keyset.select("a", "RS256", "sign") == ()
    assert keyset.skipped == ()
    assert keyset == KeySet([a, b])
    assert hash(keyset) == hash(KeySet([a, b]))
    assert keyset != KeySet([b, a])
    assert keyset != [a, b]
    with pytest.raises(InvalidKey, match="item 1 is a str"):
        KeySet([a, "b"])  # type: ignore[list-item]
    private = keyset.to_jwks(private=True)
    assert KeySet.from_jwks(private) == keyset
    public = keyset.to_jwks()
    assert all("d" not in member for member in public["keys"])
    assert KeySet.from_jwks(json.dumps(public).encode()) == KeySet([a.public_key(), b.public_key()])
    assert len(KeySet(())) == 0
    with pytest.raises(InvalidKey, match="no public form"):
        KeySet([OctKey.generate()]).to_jwks()


@pytest.mark.parametrize(
    "document", [{}, {"keys": {}}, {"keys": "x"}, {"keys": None}, [], "[]", b'"keys"']
)
def test_keyset_requires_a_keys_array(document: object) -> None:
    with pytest.raises((InvalidKey, MalformedToken)):
        KeySet.from_jwks(document)  # type: ignore[arg-type]


def test_keyset_bad_json_is_malformed() -> None:
    for text in ("", "{", '{"keys": [1,]}', "\ud800"):
        with pytest.raises(MalformedToken):
            KeySet.from_jwks(text)
    with pytest.raises(InvalidKey, match="expected a JSON object"):
        KeySet.from_jwks(5)  # type: ignore[arg-type]


def test_generate_on_the_base_class_needs_an_algorithm_or_kty() -> None:
    with pytest.raises(InvalidKey, match="name an algorithm or a kty"):
        Key.generate()


@pytest.mark.parametrize(
    ("cls", "kty"), [(ECKey, "EC"), (OKPKey, "OKP"), (RSAKey, "RSA"), (OctKey, "oct")]
)
def test_generate_on_a_subclass_defaults_to_its_kty(cls: type[Key], kty: str) -> None:
    key = cls.generate()
    assert isinstance(key, cls)
    assert key.kty == kty
    assert key.alg is None
