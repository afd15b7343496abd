"""Interoperability with PyJWT, joserfc and jwcrypto, in both directions.

For every signature algorithm a peer supports (HS*, RS*, PS*, ES*, ES256K, EdDSA on Ed25519 and
Ed448, and the RFC 9864 names Ed25519/Ed448):

* a JWT made by ``jwtkit.encode`` verifies in the peer, with the peer's key imported from
  jwtkit's public PEM or JWK export (or the bare secret), and yields the same claims;
* a JWT made by the peer verifies in ``jwtkit.decode`` with the peer's public key exported as
  PEM/JWK and imported by ``Key.from_pem``/``Key.from_jwk``;
* public and private JWKs travel both ways and denote the same key (same members, same RFC 7638
  thumbprint, and a signature made with the import verifies with the original);
* plain JWS over arbitrary bytes works both ways.

A peer that lacks an algorithm is detected by probing it alone (it signs and verifies with its
own key, no jwtkit involved) and the combination is skipped with the peer's own error as reason.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from joserfc import jws as joserfc_jws
from joserfc import jwt as joserfc_jwt
from joserfc.errors import SecurityWarning as JoserfcSecurityWarning
from joserfc.jwk import ECKey as JoserfcECKey
from joserfc.jwk import JWKRegistry as JoserfcJWKRegistry
from joserfc.jwk import OctKey as JoserfcOctKey
from joserfc.jwk import OKPKey as JoserfcOKPKey
from joserfc.jwk import RSAKey as JoserfcRSAKey
from joserfc.jwt import JWTClaimsRegistry
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from jwcrypto import jwt as jwcrypto_jwt

import jwtkit
from jwtkit import Key

ISSUER = "https://issuer.example"
AUDIENCE = "api"
# Peers check exp/iat against the real clock; jwtkit gets the same instant through `now=`.
NOW = int(time.time())
CLAIMS: dict[str, Any] = {
    "iss": ISSUER,
    "sub": "user-42",
    "aud": AUDIENCE,
    "iat": NOW - 5,
    "exp": NOW + 3600,
    "jti": "c0ffee",
    "scope": ["read", "write"],
    "profile": {"name": "Zoë Ångström", "emoji": "\U0001f511", "age": 37, "ratio": 0.25},
    "admin": False,
    "nothing": None,
}
# Every byte value, a NUL, invalid UTF-8 and a dot: plain JWS carries arbitrary bytes.
JWS_PAYLOAD = bytes(range(256)) + b"\x00\xff\xfe.not-utf8-\xc3\x28"

# The members that carry key material, per kty (RFC 7518 §6, RFC 8037 §2).
PUBLIC_MEMBERS = {"oct": ("k",), "RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}
PRIVATE_MEMBERS = {
    "oct": ("k",),
    "RSA": ("n", "e", "d", "p", "q", "dp", "dq", "qi"),
    "EC": ("crv", "x", "y", "d"),
    "OKP": ("crv", "x", "d"),
}
KTY = {
    "oct": "oct",
    "rsa": "RSA",
    "P-256": "EC",
    "P-384": "EC",
    "P-521": "EC",
    "secp256k1": "EC",
    "Ed25519": "OKP",
    "Ed448": "OKP",
}
EC_CURVES: dict[str, Any] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
    "secp256k1": ec.SECP256K1,
}


@dataclass(frozen=True)
class Case:
    """One algorithm with the kind of key it runs on."""

    alg: str
    material: str

    @property
    def kty(self) -> str:
        return KTY[self.material]

    @property
    def symmetric(self) -> bool:
        return self.material == "oct"

    @property
    def id(self) -> str:
        return f"{self.alg}-{self.material}" if self.alg == "EdDSA" else self.alg


CASES = [
    Case("HS256", "oct"),
    Case("HS384", "oct"),
    Case("HS512", "oct"),
    Case("RS256", "rsa"),
    Case("RS384", "rsa"),
    Case("RS512", "rsa"),
    Case("PS256", "rsa"),
    Case("PS384", "rsa"),
    Case("PS512", "rsa"),
    Case("ES256", "P-256"),
    Case("ES384", "P-384"),
    Case("ES512", "P-521"),
    Case("ES256K", "secp256k1"),
    Case("EdDSA", "Ed25519"),
    Case("EdDSA", "Ed448"),
    Case("Ed25519", "Ed25519"),
    Case("Ed448", "Ed448"),
]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def as_dict(jwk: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(jwk, str):
        parsed: dict[str, Any] = json.loads(jwk)
        return parsed
    return jwk


def public_members(jwk: dict[str, Any] | str, kty: str) -> dict[str, Any]:
    data = as_dict(jwk)
    assert data["kty"] == kty
    return {name: data[name] for name in PUBLIC_MEMBERS[kty]}


def private_members(jwk: dict[str, Any] | str, kty: str) -> dict[str, Any]:
    data = as_dict(jwk)
    assert data["kty"] == kty
    return {name: data[name] for name in PRIVATE_MEMBERS[kty] if name in data}


def crypto_generate(material: str) -> Any:
    """A fresh private key as a ``cryptography`` object (PyJWT's native key type)."""
    if material == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if material in EC_CURVES:
        return ec.generate_private_key(EC_CURVES[material]())
    if material == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if material == "Ed448":
        return ed448.Ed448PrivateKey.generate()
    raise AssertionError(material)


def jwtkit_generate(material: str) -> Key:
    """A fresh jwtkit key without ``alg``, so that one key serves every algorithm of its kind."""
    if material == "oct":
        return Key.generate("oct", size=512)
    if material == "rsa":
        return Key.generate("RSA", size=2048)
    if material in EC_CURVES:
        return Key.generate("EC", crv=material)
    return Key.generate("OKP", crv=material)


def verification_jwk(key: Key) -> dict[str, Any]:
    """What a verifier needs as a JWK: the public key, or the secret for an oct key."""
    if isinstance(key, jwtkit.OctKey):
        return key.to_jwk(private=True)
    return key.public_key().to_jwk()


# --------------------------------------------------------------------------------------------
# The peers, behind one small interface. Everything they return is typed Any (no stubs).


class Peer:
    name = "peer"

    def generate(self, case: Case) -> Any:
        raise NotImplementedError

    def public(self, key: Any, case: Case) -> Any:
        """The verifying form of one of this peer's private keys."""
        raise NotImplementedError

    def key_from_jwk(self, jwk: dict[str, Any], case: Case) -> Any:
        raise NotImplementedError

    def key_from_pem(self, pem: bytes, case: Case) -> Any:
        raise NotImplementedError

    def key_from_secret(self, secret: bytes, case: Case) -> Any:
        raise NotImplementedError

    def public_jwk(self, key: Any, case: Case) -> dict[str, Any] | str:
        """The peer's own export of the verifying key (the secret for oct)."""
        raise NotImplementedError

    def private_jwk(self, key: Any, case: Case) -> dict[str, Any] | str:
        raise NotImplementedError

    def public_pem(self, key: Any, case: Case) -> bytes:
        raise NotImplementedError

    def secret(self, key: Any) -> bytes:
        """The raw secret of one of this peer's oct keys."""
        raise NotImplementedError

    def thumbprint(self, key: Any) -> str | None:
        return None

    def encode_jwt(self, claims: dict[str, Any], key: Any, case: Case) -> str:
        raise NotImplementedError

    def decode_jwt(self, token: str, key: Any, case: Case) -> tuple[dict[str, Any], Any]:
        """Verify, check ``aud``/``iss``, and return ``(header, claims)``."""
        raise NotImplementedError

    def sign_jws(self, payload: bytes, key: Any, case: Case) -> str:
        raise NotImplementedError

    def verify_jws(self, token: str, key: Any, case: Case) -> bytes:
        raise NotImplementedError


class PyJWTPeer(Peer):
    """PyJWT: keys are ``cryptography`` objects or secret bytes."""

    name = "pyjwt"

    @staticmethod
    def _algorithm(case: Case) -> Any:
        return pyjwt.PyJWS().get_algorithm_by_name(case.alg)

    def generate(self, case: Case) -> Any:
        if case.symmetric:
            return secrets.token_bytes(64)
        return crypto_generate(case.material)

    def public(self, key: Any, case: Case) -> Any:
        # Private cryptography keys have public_key(); public ones (and secrets) are returned.
        return key.public_key() if hasattr(key, "public_key") else key

    def key_from_jwk(self, jwk: dict[str, Any], case: Case) -> Any:
        return pyjwt.PyJWK(jwk, algorithm=case.alg).key

    def key_from_pem(self, pem: bytes, case: Case) -> Any:
        return self._algorithm(case).prepare_key(pem)

    def key_from_secret(self, secret: bytes, case: Case) -> Any:
        return secret

    def secret(self, key: Any) -> bytes:
        assert isinstance(key, bytes)
        return key

    def public_jwk(self, key: Any, case: Case) -> dict[str, Any]:
        exported: dict[str, Any] = self._algorithm(case).to_jwk(
            self.public(key, case), as_dict=True
        )
        return exported

    def private_jwk(self, key: Any, case: Case) -> dict[str, Any]:
        exported: dict[str, Any] = self._algorithm(case).to_jwk(key, as_dict=True)
        return exported

    def public_pem(self, key: Any, case: Case) -> bytes:
        pem: bytes = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem

    def encode_jwt(self, claims: dict[str, Any], key: Any, case: Case) -> str:
        token: str = pyjwt.encode(claims, key, algorithm=case.alg)
        return token

    def decode_jwt(self, token: str, key: Any, case: Case) -> tuple[dict[str, Any], Any]:
        decoded: Any = pyjwt.decode_complete(
            token, key, algorithms=[case.alg], audience=AUDIENCE, issuer=ISSUER
        )
        return decoded["header"], decoded["payload"]

    def sign_jws(self, payload: bytes, key: Any, case: Case) -> str:
        token: str = pyjwt.PyJWS().encode(payload, key, algorithm=case.alg)
        return token

    def verify_jws(self, token: str, key: Any, case: Case) -> bytes:
        payload: bytes = pyjwt.PyJWS().decode(token, key, algorithms=[case.alg])
        return payload


@contextlib.contextmanager
def joserfc_quiet() -> Iterator[None]:
    """joserfc warns that RFC 9864 deprecates ``EdDSA``; that is the peer's advice, not ours."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "EdDSA is deprecated", JoserfcSecurityWarning)
        yield


class JoserfcPeer(Peer):
    name = "joserfc"

    _CLASSES: ClassVar[dict[str, Any]] = {
        "oct": JoserfcOctKey,
        "RSA": JoserfcRSAKey,
        "EC": JoserfcECKey,
        "OKP": JoserfcOKPKey,
    }

    def generate(self, case: Case) -> Any:
        if case.symmetric:
            return JoserfcOctKey.generate_key(512)
        if case.material == "rsa":
            return JoserfcRSAKey.generate_key(2048)
        return self._CLASSES[case.kty].generate_key(case.material)

    def public(self, key: Any, case: Case) -> Any:
        if case.symmetric:
            return key
        return self._CLASSES[case.kty].import_key(key.as_dict(private=False))

    def key_from_jwk(self, jwk: dict[str, Any], case: Case) -> Any:
        return JoserfcJWKRegistry.import_key(jwk)

    def key_from_pem(self, pem: bytes, case: Case) -> Any:
        return self._CLASSES[case.kty].import_key(pem)

    def key_from_secret(self, secret: bytes, case: Case) -> Any:
        return JoserfcOctKey.import_key(secret)

    def secret(self, key: Any) -> bytes:
        raw: bytes = key.raw_value
        return raw

    def public_jwk(self, key: Any, case: Case) -> dict[str, Any]:
        exported: dict[str, Any] = key.as_dict(private=case.symmetric)
        return exported

    def private_jwk(self, key: Any, case: Case) -> dict[str, Any]:
        exported: dict[str, Any] = key.as_dict(private=True)
        return exported

    def public_pem(self, key: Any, case: Case) -> bytes:
        pem: bytes = key.as_pem(private=False)
        return pem

    def thumbprint(self, key: Any) -> str | None:
        value: str = key.thumbprint()
        return value

    def encode_jwt(self, claims: dict[str, Any], key: Any, case: Case) -> str:
        with joserfc_quiet():
            token: str = joserfc_jwt.encode({"alg": case.alg}, claims, key, algorithms=[case.alg])
        return token

    def decode_jwt(self, token: str, key: Any, case: Case) -> tuple[dict[str, Any], Any]:
        with joserfc_quiet():
            decoded: Any = joserfc_jwt.decode(token, key, algorithms=[case.alg])
        JWTClaimsRegistry(
            iss={"essential": True, "value": ISSUER}, aud={"essential": True, "value": AUDIENCE}
        ).validate(decoded.claims)
        return decoded.header, decoded.claims

    def sign_jws(self, payload: bytes, key: Any, case: Case) -> str:
        with joserfc_quiet():
            token: str = joserfc_jws.serialize_compact(
                {"alg": case.alg}, payload, key, algorithms=[case.alg]
            )
        return token

    def verify_jws(self, token: str, key: Any, case: Case) -> bytes:
        with joserfc_quiet():
            result: Any = joserfc_jws.deserialize_compact(token, key, algorithms=[case.alg])
        payload: bytes = result.payload
        return payload


class JwcryptoPeer(Peer):
    name = "jwcrypto"

    def generate(self, case: Case) -> Any:
        if case.symmetric:
            return jwcrypto_jwk.JWK.generate(kty="oct", size=512)
        if case.material == "rsa":
            return jwcrypto_jwk.JWK.generate(kty="RSA", size=2048)
        return jwcrypto_jwk.JWK.generate(kty=case.kty, crv=case.material)

    def public(self, key: Any, case: Case) -> Any:
        if case.symmetric:
            return key
        return jwcrypto_jwk.JWK.from_json(key.export_public())

    def key_from_jwk(self, jwk: dict[str, Any], case: Case) -> Any:
        return jwcrypto_jwk.JWK.from_json(json.dumps(jwk))

    def key_from_pem(self, pem: bytes, case: Case) -> Any:
        return jwcrypto_jwk.JWK.from_pem(pem)

    def key_from_secret(self, secret: bytes, case: Case) -> Any:
        return jwcrypto_jwk.JWK(kty="oct", k=b64url(secret))

    def secret(self, key: Any) -> bytes:
        k: str = json.loads(key.export_symmetric())["k"]
        return base64.urlsafe_b64decode(k + "=" * (-len(k) % 4))

    def public_jwk(self, key: Any, case: Case) -> str:
        # jwcrypto's natural export is JSON text: jwtkit takes it as it is.
        exported: str = key.export_symmetric() if case.symmetric else key.export_public()
        return exported

    def private_jwk(self, key: Any, case: Case) -> str:
        exported: str = key.export_symmetric() if case.symmetric else key.export_private()
        return exported

    def public_pem(self, key: Any, case: Case) -> bytes:
        pem: bytes = key.export_to_pem(private_key=False, password=None)
        return pem

    def thumbprint(self, key: Any) -> str | None:
        value: str = key.thumbprint()
        return value

    def encode_jwt(self, claims: dict[str, Any], key: Any, case: Case) -> str:
        token: Any = jwcrypto_jwt.JWT(header={"alg": case.alg}, claims=claims)
        token.make_signed_token(key)
        serialized: str = token.serialize()
        return serialized

    def decode_jwt(self, token: str, key: Any, case: Case) -> tuple[dict[str, Any], Any]:
        decoded: Any = jwcrypto_jwt.JWT(
            jwt=token, key=key, algs=[case.alg], check_claims={"iss": ISSUER, "aud": AUDIENCE}
        )
        return decoded.token.jose_header, json.loads(decoded.claims)

    def sign_jws(self, payload: bytes, key: Any, case: Case) -> str:
        signed: Any = jwcrypto_jws.JWS(payload)
        signed.add_signature(key, alg=case.alg, protected=json.dumps({"alg": case.alg}))
        token: str = signed.serialize(compact=True)
        return token

    def verify_jws(self, token: str, key: Any, case: Case) -> bytes:
        parsed: Any = jwcrypto_jws.JWS()
        parsed.deserialize(token)
        parsed.verify(key, alg=case.alg)
        payload: bytes = parsed.payload
        return payload


PEERS: dict[str, Peer] = {p.name: p for p in (PyJWTPeer(), JoserfcPeer(), JwcryptoPeer())}


class KeyStore:
    """Keys made once per module (RSA generation is the slow part), and the support probes."""

    def __init__(self) -> None:
        self._ours: dict[str, Key] = {}
        self._theirs: dict[tuple[str, str], Any] = {}
        self._lacks: dict[tuple[str, Case], str | None] = {}

    def ours(self, case: Case) -> Key:
        if case.material not in self._ours:
            self._ours[case.material] = jwtkit_generate(case.material)
        return self._ours[case.material]

    def theirs(self, peer: Peer, case: Case) -> Any:
        slot = (peer.name, case.material)
        if slot not in self._theirs:
            self._theirs[slot] = peer.generate(case)
        return self._theirs[slot]

    def require(self, peer: Peer, case: Case) -> None:
        """Skip unless the peer, on its own, can sign and verify with ``case.alg``."""
        slot = (peer.name, case)
        if slot not in self._lacks:
            try:
                key = self.theirs(peer, case)
                token = peer.sign_jws(b"probe", key, case)
                ok = peer.verify_jws(token, peer.public(key, case), case) == b"probe"
                self._lacks[slot] = None if ok else "its own signature does not verify"
            except Exception as exc:  # the peer's own failure, jwtkit is not involved
                self._lacks[slot] = f"{type(exc).__name__}: {exc}"
        reason = self._lacks[slot]
        if reason is not None:
            pytest.skip(f"{peer.name} does not support {case.alg} on {case.material}: {reason}")


@pytest.fixture(scope="module")
def keys() -> KeyStore:
    return KeyStore()


PEER_PARAMS = [pytest.param(p, id=p.name) for p in PEERS.values()]
CASE_PARAMS = [pytest.param(c, id=c.id) for c in CASES]
# How a verification key travels: PEM for asymmetric keys, the bare secret for oct; and JWK.
FORM_PARAMS = [pytest.param(f, id=f) for f in ("jwk", "pem_or_secret")]


# --------------------------------------------------------------------------------------------
# (a) jwtkit signs, the peer verifies


@pytest.mark.parametrize("form", FORM_PARAMS)
@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize("peer", PEER_PARAMS)
def test_jwt_encoded_by_jwtkit_verifies_in_peer_with_same_claims(
    peer: Peer, case: Case, form: str, keys: KeyStore
) -> None:
    keys.require(peer, case)
    key = keys.ours(case)
    token = jwtkit.encode(CLAIMS, key, algorithm=case.alg)
    if form == "jwk":
        peer_key = peer.key_from_jwk(verification_jwk(key), case)
    elif isinstance(key, jwtkit.OctKey):
        peer_key = peer.key_from_secret(key.secret, case)
    else:
        peer_key = peer.key_from_pem(key.public_key().to_pem(), case)

    header, claims = peer.decode_jwt(token, peer_key, case)

    assert claims == CLAIMS
    assert header["alg"] == case.alg
    assert header.get("typ") == "JWT"


# --------------------------------------------------------------------------------------------
# (b) the peer signs, jwtkit verifies


@pytest.mark.parametrize("form", FORM_PARAMS)
@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize("peer", PEER_PARAMS)
def test_jwt_encoded_by_peer_decodes_in_jwtkit_with_exported_key(
    peer: Peer, case: Case, form: str, keys: KeyStore
) -> None:
    keys.require(peer, case)
    peer_key = keys.theirs(peer, case)
    token = peer.encode_jwt(CLAIMS, peer_key, case)
    verify_key: Key | bytes
    if form == "jwk":
        verify_key = Key.from_jwk(peer.public_jwk(peer_key, case))
        assert verify_key.is_private == case.symmetric
    elif case.symmetric:
        verify_key = peer.secret(peer_key)  # a bare secret is an accepted key argument
    else:
        verify_key = Key.from_pem(peer.public_pem(peer_key, case))
        assert not verify_key.is_private

    decoded = jwtkit.decode_complete(
        token, verify_key, algorithms=[case.alg], audience=AUDIENCE, issuer=ISSUER, now=NOW
    )

    assert decoded.claims == CLAIMS
    assert decoded.header["alg"] == case.alg
    assert decoded.algorithm == case.alg
    if isinstance(verify_key, Key):
        assert decoded.key == verify_key
    # The same token through the reusable Verifier, twice (the second hits the header cache).
    verifier = jwtkit.Verifier(verify_key, algorithms=[case.alg], audience=AUDIENCE, issuer=ISSUER)
    assert verifier.decode(token, now=NOW) == CLAIMS
    assert verifier.decode(token, now=NOW) == CLAIMS


@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize("peer", PEER_PARAMS)
def test_jwt_encoded_by_peer_is_rejected_by_jwtkit_with_another_key(
    peer: Peer, case: Case, keys: KeyStore
) -> None:
    """The positive interop tests above cannot pass by accepting everything."""
    keys.require(peer, case)
    token = peer.encode_jwt(CLAIMS, keys.theirs(peer, case), case)
    other = keys.ours(case)
    other_verifier = other if case.symmetric else other.public_key()

    with pytest.raises(jwtkit.InvalidSignature):
        jwtkit.decode(
            token,
            other_verifier,
            algorithms=[case.alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            now=NOW,
        )


# --------------------------------------------------------------------------------------------
# (c) JWK export/import, both ways, denotes the same key


@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize("peer", PEER_PARAMS)
def test_jwtkit_jwk_export_imports_into_peer_as_same_key(
    peer: Peer, case: Case, keys: KeyStore
) -> None:
    keys.require(peer, case)
    key = keys.ours(case)
    exported_public = verification_jwk(key)
    exported_private = key.to_jwk(private=True)

    peer_public = peer.key_from_jwk(exported_public, case)
    peer_private = peer.key_from_jwk(exported_private, case)

    # Same public key: the peer exports the members jwtkit exported, and thumbprints agree.
    assert public_members(peer.public_jwk(peer_public, case), case.kty) == public_members(
        exported_public, case.kty
    )
    assert private_members(peer.private_jwk(peer_private, case), case.kty) == private_members(
        exported_private, case.kty
    )
    peer_thumbprint = peer.thumbprint(peer_public)
    if peer_thumbprint is not None:
        assert peer_thumbprint == key.thumbprint()
    # The imported private key signs what jwtkit's public key verifies, and vice versa.
    token = peer.sign_jws(JWS_PAYLOAD, peer_private, case)
    assert jwtkit.jws.verify(token, key, algorithms=[case.alg]).payload == JWS_PAYLOAD
    ours = jwtkit.jws.sign(JWS_PAYLOAD, key, algorithm=case.alg)
    assert peer.verify_jws(ours, peer_public, case) == JWS_PAYLOAD


@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize("peer", PEER_PARAMS)
def test_peer_jwk_export_imports_into_jwtkit_as_same_key(
    peer: Peer, case: Case, keys: KeyStore
) -> None:
    keys.require(peer, case)
    peer_key = keys.theirs(peer, case)
    peer_public_jwk = peer.public_jwk(peer_key, case)
    peer_private_jwk = peer.private_jwk(peer_key, case)

    public = Key.from_jwk(peer_public_jwk)
    private = Key.from_jwk(peer_private_jwk)

    assert private.is_private
    assert public.is_private == case.symmetric
    assert public_members(public.to_jwk(private=case.symmetric), case.kty) == public_members(
        peer_public_jwk, case.kty
    )
    assert private_members(private.to_jwk(private=True), case.kty) == private_members(
        peer_private_jwk, case.kty
    )
    if not case.symmetric:
        assert private.public_key().thumbprint() == public.thumbprint()
    peer_thumbprint = peer.thumbprint(peer_key)
    if peer_thumbprint is not None:
        assert public.thumbprint() == peer_thumbprint
    # jwtkit signs with the imported private key; the peer verifies with its own key.
    token = jwtkit.jws.sign(JWS_PAYLOAD, private, algorithm=case.alg)
    assert peer.verify_jws(token, peer.public(peer_key, case), case) == JWS_PAYLOAD
    # The peer signs; jwtkit verifies with the imported public key.
    theirs = peer.sign_jws(JWS_PAYLOAD, peer_key, case)
    assert jwtkit.jws.verify(theirs, public, algorithms=[case.alg]).payload == JWS_PAYLOAD


# --------------------------------------------------------------------------------------------
# plain JWS over arbitrary bytes


@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize("peer", PEER_PARAMS)
def test_jws_signed_by_jwtkit_verifies_in_peer_with_same_bytes(
    peer: Peer, case: Case, keys: KeyStore
) -> None:
    keys.require(peer, case)
    key = keys.ours(case)
    peer_key = peer.key_from_jwk(verification_jwk(key), case)
    for payload in (JWS_PAYLOAD, b"", b"{}", "héllo ✓".encode()):
        token = jwtkit.jws.sign(payload, key, algorithm=case.alg)
        assert peer.verify_jws(token, peer_key, case) == payload


@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize("peer", PEER_PARAMS)
def test_jws_signed_by_peer_verifies_in_jwtkit_with_same_bytes(
    peer: Peer, case: Case, keys: KeyStore
) -> None:
    keys.require(peer, case)
    peer_key = keys.theirs(peer, case)
    verify_key = Key.from_jwk(peer.public_jwk(peer_key, case))
    for payload in (JWS_PAYLOAD, b"{}", "héllo ✓".encode()):
        token = peer.sign_jws(payload, peer_key, case)
        result = jwtkit.jws.verify(token, verify_key, algorithms=[case.alg])
        assert result.payload == payload
        assert result.algorithm == case.alg
        assert result.key == verify_key
        assert result.header["alg"] == case.alg


@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize("peer", PEER_PARAMS)
def test_jws_signed_by_peer_with_tampered_payload_is_rejected_by_jwtkit(
    peer: Peer, case: Case, keys: KeyStore
) -> None:
    keys.require(peer, case)
    peer_key = keys.theirs(peer, case)
    verify_key = Key.from_jwk(peer.public_jwk(peer_key, case))
    header, _, signature = peer.sign_jws(b"amount=10", peer_key, case).split(".")
    forged = f"{header}.{b64url(b'amount=99')}.{signature}"

    with pytest.raises(jwtkit.InvalidSignature):
        jwtkit.jws.verify(forged, verify_key, algorithms=[case.alg])
