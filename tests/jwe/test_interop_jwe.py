"""JWE interoperability with jwcrypto and joserfc, in both directions.

For every key-management algorithm (RSA-OAEP, RSA-OAEP-256/384/512, A128/192/256KW, ``dir``,
ECDH-ES and ECDH-ES+A*KW on P-256/384/521, X25519 and X448, A128/192/256GCMKW, the three
PBES2) times every content encryption (A128CBC-HS256, A192CBC-HS384, A256CBC-HS512, A128GCM,
A192GCM, A256GCM):

* **jwtkit -> peer**: the peer makes the recipient key and exports its public JWK (the secret
  for ``oct``); jwtkit imports it with ``Key.from_jwk``, encrypts (compact), and the peer
  decrypts with its own key;
* **peer -> jwtkit**: jwtkit makes the key and exports its public JWK; the peer imports it,
  encrypts, and ``jwtkit.jwe.decrypt`` decrypts with the jwtkit key.

Nested JWTs (an ES256 JWS inside an ECDH-ES+A256KW JWE, ``cty: JWT``) go both ways too:
``jwtkit.encode(..., encrypt_with=...)`` opened and verified by the peer, and the peer's
sign-then-encrypt read by ``jwtkit.decode(..., decryption_key=...)``.

``RSA1_5`` goes one way only: a peer encrypts and jwtkit decrypts it with a registry that opts
in to :data:`jwtkit.jwa.RSA1_5` (the default registry refuses it); jwtkit never encrypts it.
PBES2 is opt-in for both directions. ``zip: DEF`` and both JSON serializations (flattened with
every algorithm; general with several recipients, ``aad`` and shared and per-recipient
unprotected headers) are covered both ways too.

A peer that lacks an algorithm is detected by probing it alone (it encrypts to and decrypts
with its own key, no jwtkit involved); the combination is then skipped with the peer's own
error as the reason. Neither peer implements RSA-OAEP-384/512 at the time of writing, so those
two are also checked both ways against ``cryptography``'s OAEP (MGF1 with the same hash, as in
the IANA JOSE registry and W3C WebCrypto) with AES-GCM, a JWE assembled by hand.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import inspect
import json
import os
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc import jwe as joserfc_jwe
from joserfc import jws as joserfc_jws
from joserfc.errors import SecurityWarning as JoserfcSecurityWarning
from joserfc.jwk import ECKey as JoserfcECKey
from joserfc.jwk import JWKRegistry as JoserfcJWKRegistry
from joserfc.jwk import OctKey as JoserfcOctKey
from joserfc.jwk import OKPKey as JoserfcOKPKey
from joserfc.jwk import RSAKey as JoserfcRSAKey
from jwcrypto import jwe as jwcrypto_jwe
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

import jwtkit
from jwtkit import Key, OctKey, jwe
from jwtkit.errors import AlgorithmNotAllowed, DecryptionError, JWTError, UsageError
from jwtkit.jwa import (
    DEFAULT_REGISTRY,
    PBES2_HS256_A128KW,
    PBES2_HS384_A192KW,
    PBES2_HS512_A256KW,
    RSA1_5,
    InsecureAlgorithmWarning,
    Registry,
)

ENCRYPTIONS = (
    "A128CBC-HS256",
    "A192CBC-HS384",
    "A256CBC-HS512",
    "A128GCM",
    "A192GCM",
    "A256GCM",
)
#: The CEK length of each ``enc`` (RFC 7518 §5.2.3-5.2.5, §5.3): the size of a ``dir`` key.
CEK_BYTES = {
    "A128CBC-HS256": 32,
    "A192CBC-HS384": 48,
    "A256CBC-HS512": 64,
    "A128GCM": 16,
    "A192GCM": 24,
    "A256GCM": 32,
}
CURVES = ("P-256", "P-384", "P-521", "X25519", "X448")
PASSWORD = b"interop: a long passphrase, not from any list 7f3a9c"
#: A PBES2 count both peers accept (jwcrypto refuses more than 16384) and jwtkit accepts
#: (at least 1000, RFC 7518 §4.8.1.2).
P2C = 4096
#: Every byte value, a NUL and invalid UTF-8: JWE carries arbitrary bytes.
PLAINTEXT = bytes(range(256)) + b"\x00\xff\xfe not-utf8 \xc3\x28 end"
COMPRESSIBLE = b'{"sub": "user-42", "roles": ["reader", "writer"]} ' * 40
AAD = b"interop aad \x00\x01 \xe2\x9c\x93"

#: jwcrypto 1.6 added ``JWE(flattened=...)``; older releases pick the form by recipient count.
_JWCRYPTO_CHOOSES_THE_FORM = "flattened" in inspect.signature(jwcrypto_jwe.JWE).parameters


@dataclass(frozen=True)
class Case:
    """One key-management algorithm with the kind of key it runs on."""

    alg: str
    material: str

    @property
    def id(self) -> str:
        if self.alg.startswith("ECDH-ES"):
            return f"{self.alg}-{self.material}"
        return self.alg

    @property
    def pbes2(self) -> bool:
        return self.alg.startswith("PBES2")

    def material_for(self, enc: str) -> str:
        """The key material for this algorithm with ``enc``: a ``dir`` key is the CEK."""
        return f"oct{CEK_BYTES[enc]}" if self.alg == "dir" else self.material


CASES = [
    Case("RSA-OAEP", "rsa"),
    Case("RSA-OAEP-256", "rsa"),
    Case("RSA-OAEP-384", "rsa"),
    Case("RSA-OAEP-512", "rsa"),
    Case("A128KW", "oct16"),
    Case("A192KW", "oct24"),
    Case("A256KW", "oct32"),
    Case("dir", "dir"),
    *(
        Case(alg, crv)
        for alg in ("ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW")
        for crv in CURVES
    ),
    Case("A128GCMKW", "oct16"),
    Case("A192GCMKW", "oct24"),
    Case("A256GCMKW", "oct32"),
    Case("PBES2-HS256+A128KW", "password"),
    Case("PBES2-HS384+A192KW", "password"),
    Case("PBES2-HS512+A256KW", "password"),
]
RSA1_5_CASE = Case("RSA1_5", "rsa")


def _opt_in(*algorithms: Any) -> Registry:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureAlgorithmWarning)
        return DEFAULT_REGISTRY.including(*algorithms)


#: The default registry plus the opt-in algorithms (RSA1_5 decrypts only, whatever the registry).
OPT_IN = _opt_in(RSA1_5, PBES2_HS256_A128KW, PBES2_HS384_A192KW, PBES2_HS512_A256KW)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --------------------------------------------------------------------------------------------
# Keys


@functools.cache
def jwtkit_key(material: str) -> Key:
    """A jwtkit private key (or secret) without ``alg``, one per kind of material."""
    if material == "rsa":
        return Key.generate("RSA", size=2048)
    if material == "password":
        return OctKey(PASSWORD)
    if material.startswith("oct"):
        return Key.generate("oct", size=int(material[3:]) * 8)
    if material.startswith("P-"):
        return Key.generate("EC", crv=material)
    return Key.generate("OKP", crv=material)


def recipient_jwk(key: Key) -> dict[str, Any]:
    """What a sender needs as a JWK: the public key, or the secret of an ``oct`` key."""
    if isinstance(key, OctKey):
        return key.to_jwk(private=True)
    return key.public_key().to_jwk()


@contextlib.contextmanager
def peers_quiet() -> Iterator[None]:
    """joserfc warns that RSA1_5 is deprecated: true, and the reason jwtkit only decrypts it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JoserfcSecurityWarning)
        yield


# --------------------------------------------------------------------------------------------
# The peers, behind one small interface. Everything they return is typed Any (no stubs).


class Peer:
    name = "peer"

    def generate(self, material: str) -> Any:
        raise NotImplementedError

    def export(self, key: Any) -> dict[str, Any]:
        """The peer's own export of what a sender needs: the public JWK, or the oct secret."""
        raise NotImplementedError

    def import_jwk(self, jwk: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def encrypt_compact(self, plaintext: bytes, key: Any, header: dict[str, Any]) -> str:
        raise NotImplementedError

    def decrypt_compact(self, token: str, key: Any, names: list[str]) -> bytes:
        raise NotImplementedError

    def encrypt_json(
        self,
        plaintext: bytes,
        recipients: list[tuple[Any, dict[str, Any]]],
        *,
        protected: dict[str, Any],
        unprotected: dict[str, Any],
        aad: bytes,
        general: bool,
        names: list[str],
    ) -> dict[str, Any]:
        raise NotImplementedError

    def decrypt_json(self, data: Mapping[str, Any], key: Any, names: list[str]) -> bytes:
        raise NotImplementedError

    def sign_es256(self, payload: bytes, key: Any) -> str:
        """A compact ES256 JWS with ``typ: JWT`` (the inner token of a nested JWT)."""
        raise NotImplementedError

    def verify_es256(self, token: str, key: Any) -> bytes:
        raise NotImplementedError


class JwcryptoPeer(Peer):
    name = "jwcrypto"

    def generate(self, material: str) -> Any:
        if material == "rsa":
            return jwcrypto_jwk.JWK.generate(kty="RSA", size=2048)
        if material == "password":
            return jwcrypto_jwk.JWK(kty="oct", k=b64url(PASSWORD))
        if material.startswith("oct"):
            return jwcrypto_jwk.JWK.generate(kty="oct", size=int(material[3:]) * 8)
        if material.startswith("P-"):
            return jwcrypto_jwk.JWK.generate(kty="EC", crv=material)
        return jwcrypto_jwk.JWK.generate(kty="OKP", crv=material)

    def export(self, key: Any) -> dict[str, Any]:
        if key.get("kty") == "oct":
            exported: dict[str, Any] = key.export_symmetric(as_dict=True)
        else:
            exported = key.export_public(as_dict=True)
        return exported

    def import_jwk(self, jwk: Mapping[str, Any]) -> Any:
        return jwcrypto_jwk.JWK(**jwk)

    def encrypt_compact(self, plaintext: bytes, key: Any, header: dict[str, Any]) -> str:
        names = [header["alg"], header["enc"]]
        token = jwcrypto_jwe.JWE(plaintext, protected=json.dumps(header), algs=names)
        token.add_recipient(key)
        compact: str = token.serialize(compact=True)
        return compact

    def decrypt_compact(self, token: str, key: Any, names: list[str]) -> bytes:
        received = jwcrypto_jwe.JWE(algs=names)
        received.deserialize(token, key=key)
        plaintext: bytes = received.payload
        return plaintext

    def encrypt_json(
        self,
        plaintext: bytes,
        recipients: list[tuple[Any, dict[str, Any]]],
        *,
        protected: dict[str, Any],
        unprotected: dict[str, Any],
        aad: bytes,
        general: bool,
        names: list[str],
    ) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if _JWCRYPTO_CHOOSES_THE_FORM:
            options["flattened"] = not general
        token = jwcrypto_jwe.JWE(
            plaintext,
            protected=json.dumps(protected),
            unprotected=json.dumps(unprotected),
            aad=aad,
            algs=names,
            **options,
        )
        for key, header in recipients:
            token.add_recipient(key, header=json.dumps(header))
        data: dict[str, Any] = json.loads(token.serialize())
        if general and "recipients" not in data:
            # jwcrypto < 1.6 writes one recipient in the flattened form; the general form is
            # the same object with that recipient's members in a list (RFC 7516 §7.2.2).
            recipient = {
                name: data.pop(name) for name in ("encrypted_key", "header") if name in data
            }
            data["recipients"] = [recipient]
        return data

    def decrypt_json(self, data: Mapping[str, Any], key: Any, names: list[str]) -> bytes:
        received = jwcrypto_jwe.JWE(algs=names)
        received.deserialize(json.dumps(data), key=key)
        plaintext: bytes = received.payload
        return plaintext

    def sign_es256(self, payload: bytes, key: Any) -> str:
        signed = jwcrypto_jws.JWS(payload)
        signed.add_signature(key, alg="ES256", protected={"alg": "ES256", "typ": "JWT"})
        compact: str = signed.serialize(compact=True)
        return compact

    def verify_es256(self, token: str, key: Any) -> bytes:
        received = jwcrypto_jws.JWS()
        received.deserialize(token, key=key, alg="ES256")
        payload: bytes = received.payload
        return payload


class JoserfcPeer(Peer):
    name = "joserfc"

    def generate(self, material: str) -> Any:
        if material == "rsa":
            return JoserfcRSAKey.generate_key(2048)
        if material == "password":
            return JoserfcOctKey.import_key(PASSWORD)
        if material.startswith("oct"):
            return JoserfcOctKey.generate_key(int(material[3:]) * 8)
        if material.startswith("P-"):
            return JoserfcECKey.generate_key(material)
        curve: Any = material
        return JoserfcOKPKey.generate_key(curve)

    def export(self, key: Any) -> dict[str, Any]:
        exported: dict[str, Any] = key.as_dict(private=isinstance(key, JoserfcOctKey))
        return exported

    def import_jwk(self, jwk: Mapping[str, Any]) -> Any:
        return JoserfcJWKRegistry.import_key(dict(jwk))

    @staticmethod
    def _registry(names: list[str]) -> Any:
        # DEF must be allowed by name for zip; every recipient is not ours in a general JWE.
        return joserfc_jwe.JWERegistry(algorithms=[*names, "DEF"], verify_all_recipients=False)

    def encrypt_compact(self, plaintext: bytes, key: Any, header: dict[str, Any]) -> str:
        with peers_quiet():
            token: str = joserfc_jwe.encrypt_compact(
                header, plaintext, key, registry=self._registry([header["alg"], header["enc"]])
            )
        return token

    def decrypt_compact(self, token: str, key: Any, names: list[str]) -> bytes:
        with peers_quiet():
            result: Any = joserfc_jwe.decrypt_compact(token, key, registry=self._registry(names))
        plaintext: bytes = result.plaintext
        return plaintext

    def encrypt_json(
        self,
        plaintext: bytes,
        recipients: list[tuple[Any, dict[str, Any]]],
        *,
        protected: dict[str, Any],
        unprotected: dict[str, Any],
        aad: bytes,
        general: bool,
        names: list[str],
    ) -> dict[str, Any]:
        kind = joserfc_jwe.GeneralJSONEncryption if general else joserfc_jwe.FlattenedJSONEncryption
        message = kind(protected, plaintext, unprotected=unprotected, aad=aad)
        for key, header in recipients:
            message.add_recipient(header, key)
        with peers_quiet():
            data: Any = joserfc_jwe.encrypt_json(message, None, registry=self._registry(names))
        return dict(data)

    def decrypt_json(self, data: Mapping[str, Any], key: Any, names: list[str]) -> bytes:
        with peers_quiet():
            value: Any = dict(data)
            result: Any = joserfc_jwe.decrypt_json(value, key, registry=self._registry(names))
        plaintext: bytes = result.plaintext
        return plaintext

    def sign_es256(self, payload: bytes, key: Any) -> str:
        header = {"alg": "ES256", "typ": "JWT"}
        token: str = joserfc_jws.serialize_compact(header, payload, key, algorithms=["ES256"])
        return token

    def verify_es256(self, token: str, key: Any) -> bytes:
        result: Any = joserfc_jws.deserialize_compact(token, key, algorithms=["ES256"])
        payload: bytes = result.payload
        return payload


PEERS: dict[str, Peer] = {peer.name: peer for peer in (JwcryptoPeer(), JoserfcPeer())}


@functools.cache
def peer_key(peer_name: str, material: str) -> Any:
    """One private key (or secret) per peer and kind of material."""
    return PEERS[peer_name].generate(material)


@functools.cache
def _probe(peer_name: str, alg: str, enc: str, material: str) -> str | None:
    """``None`` when the peer alone round-trips ``alg``/``enc``, else the reason it cannot."""
    peer = PEERS[peer_name]
    key = peer_key(peer_name, material)
    header: dict[str, Any] = {"alg": alg, "enc": enc}
    try:
        token = peer.encrypt_compact(b"probe", peer.import_jwk(peer.export(key)), header)
        if peer.decrypt_compact(token, key, [alg, enc]) == b"probe":
            return None
        problem = "its own round trip changes the plaintext"
    except Exception as exc:  # the peer's own refusal, whatever its type, is the reason
        problem = f"{type(exc).__name__}: {exc}"
    return f"{peer_name} cannot round-trip {alg} with {enc} on {material} alone ({problem})"


def require(peer: str, case: Case, enc: str) -> None:
    """Skip unless the peer supports this combination on its own."""
    reason = _probe(peer, case.alg, enc, case.material_for(enc))
    if reason is not None:
        pytest.skip(reason)


def pbes2_headers(case: Case) -> dict[str, Any] | None:
    return {"p2c": P2C} if case.pbes2 else None


def registry_for(case: Case) -> Registry:
    return OPT_IN if case.pbes2 or case.alg == "RSA1_5" else DEFAULT_REGISTRY


# --------------------------------------------------------------------------------------------
# Compact serialization, every (alg, enc) pair, both ways


@pytest.mark.parametrize("peer", sorted(PEERS))
@pytest.mark.parametrize("enc", ENCRYPTIONS)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_jwtkit_encrypts_and_peer_decrypts(peer: str, case: Case, enc: str) -> None:
    require(peer, case, enc)
    material = case.material_for(enc)
    private = peer_key(peer, material)
    recipient = Key.from_jwk(PEERS[peer].export(private))
    token = jwe.encrypt(
        PLAINTEXT,
        recipient,
        algorithm=case.alg,
        encryption=enc,
        headers=pbes2_headers(case),
        registry=registry_for(case),
    )
    assert token.count(".") == 4
    assert PEERS[peer].decrypt_compact(token, private, [case.alg, enc]) == PLAINTEXT


@pytest.mark.parametrize("peer", sorted(PEERS))
@pytest.mark.parametrize("enc", ENCRYPTIONS)
@pytest.mark.parametrize("case", [*CASES, RSA1_5_CASE], ids=lambda case: case.id)
def test_peer_encrypts_and_jwtkit_decrypts(peer: str, case: Case, enc: str) -> None:
    require(peer, case, enc)
    private = jwtkit_key(case.material_for(enc))
    recipient = PEERS[peer].import_jwk(recipient_jwk(private))
    token = PEERS[peer].encrypt_compact(PLAINTEXT, recipient, {"alg": case.alg, "enc": enc})
    result = jwe.decrypt(
        token, private, algorithms=[case.alg], encryptions=[enc], registry=registry_for(case)
    )
    assert result.plaintext == PLAINTEXT
    assert (result.algorithm, result.encryption) == (case.alg, enc)
    assert (result.header["alg"], result.header["enc"]) == (case.alg, enc)
    assert result.key is private


@pytest.mark.parametrize("peer", sorted(PEERS))
def test_peer_rsa1_5_token_is_refused_without_the_opt_in_registry(peer: str) -> None:
    require(peer, RSA1_5_CASE, "A128CBC-HS256")
    private = jwtkit_key("rsa")
    recipient = PEERS[peer].import_jwk(recipient_jwk(private))
    header = {"alg": "RSA1_5", "enc": "A128CBC-HS256"}
    token = PEERS[peer].encrypt_compact(PLAINTEXT, recipient, header)
    with pytest.raises(AlgorithmNotAllowed):
        jwe.decrypt(token, private, algorithms=["RSA-OAEP-256"], encryptions=["A128CBC-HS256"])
    with pytest.raises(UsageError, match=r"DEFAULT_REGISTRY\.including\(jwtkit\.jwa\.RSA1_5\)"):
        jwe.decrypt(token, private, algorithms=["RSA1_5"], encryptions=["A128CBC-HS256"])


def test_jwtkit_never_encrypts_rsa1_5_even_with_the_opt_in_registry() -> None:
    recipient = jwtkit_key("rsa").public_key()
    with pytest.raises(JWTError):
        jwe.encrypt(PLAINTEXT, recipient, algorithm="RSA1_5", encryption="A128GCM", registry=OPT_IN)


# --------------------------------------------------------------------------------------------
# zip: DEF (RFC 7516 §4.1.3), every enc, both ways


@pytest.mark.parametrize("peer", sorted(PEERS))
@pytest.mark.parametrize("enc", ENCRYPTIONS)
def test_compressed_jwtkit_to_peer(peer: str, enc: str) -> None:
    case = Case("A256KW", "oct32")
    require(peer, case, enc)
    private = peer_key(peer, "oct32")
    recipient = Key.from_jwk(PEERS[peer].export(private))
    token = jwe.encrypt(COMPRESSIBLE, recipient, algorithm=case.alg, encryption=enc, compress=True)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["zip"] == "DEF"
    assert len(token) < len(COMPRESSIBLE)
    assert PEERS[peer].decrypt_compact(token, private, [case.alg, enc]) == COMPRESSIBLE


@pytest.mark.parametrize("peer", sorted(PEERS))
@pytest.mark.parametrize("enc", ENCRYPTIONS)
def test_compressed_peer_to_jwtkit(peer: str, enc: str) -> None:
    case = Case("RSA-OAEP-256", "rsa")
    require(peer, case, enc)
    private = jwtkit_key("rsa")
    recipient = PEERS[peer].import_jwk(recipient_jwk(private))
    header = {"alg": case.alg, "enc": enc, "zip": "DEF"}
    token = PEERS[peer].encrypt_compact(COMPRESSIBLE, recipient, header)
    result = jwe.decrypt(token, private, algorithms=[case.alg], encryptions=[enc])
    assert result.plaintext == COMPRESSIBLE
    assert result.header["zip"] == "DEF"


# --------------------------------------------------------------------------------------------
# Flattened JSON serialization (RFC 7516 §7.2.2): every algorithm, the enc rotating, with aad,
# a shared unprotected header and the alg in the per-recipient header.


def _rotating(cases: list[Case]) -> list[tuple[Case, str]]:
    return [(case, ENCRYPTIONS[index % len(ENCRYPTIONS)]) for index, case in enumerate(cases)]


FLATTENED = _rotating(CASES)


@pytest.mark.parametrize("peer", sorted(PEERS))
@pytest.mark.parametrize(
    ("case", "enc"), FLATTENED, ids=[f"{case.id}-{enc}" for case, enc in FLATTENED]
)
def test_flattened_json_jwtkit_to_peer(peer: str, case: Case, enc: str) -> None:
    require(peer, case, enc)
    private = peer_key(peer, case.material_for(enc))
    recipient = Key.from_jwk(PEERS[peer].export(private))
    header: dict[str, Any] = {"kid": "r1", **(pbes2_headers(case) or {})}
    data = jwe.encrypt_json(
        PLAINTEXT,
        [jwe.Recipient(recipient, case.alg, header=header)],
        encryption=enc,
        unprotected={"cty": "application/octet-stream"},
        aad=AAD,
        flatten=True,
        registry=registry_for(case),
    )
    assert "recipients" not in data
    protected = json.loads(base64.urlsafe_b64decode(data["protected"] + "=="))
    assert {**protected, **data.get("header", {})}["alg"] == case.alg
    assert PEERS[peer].decrypt_json(data, private, [case.alg, enc]) == PLAINTEXT


@pytest.mark.parametrize("peer", sorted(PEERS))
@pytest.mark.parametrize(
    ("case", "enc"), FLATTENED, ids=[f"{case.id}-{enc}" for case, enc in FLATTENED]
)
def test_flattened_json_peer_to_jwtkit(peer: str, case: Case, enc: str) -> None:
    require(peer, case, enc)
    private = jwtkit_key(case.material_for(enc))
    recipient = PEERS[peer].import_jwk(recipient_jwk(private))
    data = PEERS[peer].encrypt_json(
        PLAINTEXT,
        [(recipient, {"alg": case.alg, "kid": "r1"})],
        protected={"enc": enc},
        unprotected={"cty": "application/octet-stream"},
        aad=AAD,
        general=False,
        names=[case.alg, enc],
    )
    result = jwe.decrypt_json(
        data, private, algorithms=[case.alg], encryptions=[enc], registry=registry_for(case)
    )
    assert result.plaintext == PLAINTEXT
    assert (result.algorithm, result.encryption) == (case.alg, enc)
    assert result.aad == AAD
    assert result.unprotected == {"cty": "application/octet-stream"}
    assert result.recipient_header is not None
    assert result.recipient_header["kid"] == "r1"
    assert result.recipient_index == 0


# --------------------------------------------------------------------------------------------
# General JSON serialization (RFC 7516 §7.2.1): three recipients with three kinds of key.

GENERAL = [
    Case("RSA-OAEP-256", "rsa"),
    Case("ECDH-ES+A256KW", "P-256"),
    Case("A128KW", "oct16"),
]
GENERAL_ENC = "A256GCM"


@pytest.mark.parametrize("peer", sorted(PEERS))
def test_general_json_jwtkit_to_peer_every_recipient_decrypts(peer: str) -> None:
    for case in GENERAL:
        require(peer, case, GENERAL_ENC)
    privates = [peer_key(peer, case.material) for case in GENERAL]
    recipients = [
        jwe.Recipient(Key.from_jwk(PEERS[peer].export(private)), case.alg, header={"kid": kid})
        for private, case, kid in zip(privates, GENERAL, ("a", "b", "c"), strict=True)
    ]
    data = jwe.encrypt_json(
        PLAINTEXT,
        recipients,
        encryption=GENERAL_ENC,
        protected={"cty": "application/octet-stream"},
        unprotected={"jku": "https://keys.example/jwks.json"},
        aad=AAD,
    )
    assert [r["header"]["kid"] for r in data["recipients"]] == ["a", "b", "c"]
    for private, case in zip(privates, GENERAL, strict=True):
        names = [case.alg, GENERAL_ENC]
        assert PEERS[peer].decrypt_json(data, private, names) == PLAINTEXT


@pytest.mark.parametrize("peer", sorted(PEERS))
def test_general_json_peer_to_jwtkit_reports_the_recipient_that_decrypted(peer: str) -> None:
    for case in GENERAL:
        require(peer, case, GENERAL_ENC)
    privates = [jwtkit_key(case.material) for case in GENERAL]
    recipients = [
        (PEERS[peer].import_jwk(recipient_jwk(private)), {"alg": case.alg, "kid": kid})
        for private, case, kid in zip(privates, GENERAL, ("a", "b", "c"), strict=True)
    ]
    data = PEERS[peer].encrypt_json(
        PLAINTEXT,
        recipients,
        protected={"enc": GENERAL_ENC},
        unprotected={"cty": "application/octet-stream"},
        aad=AAD,
        general=True,
        names=[*(case.alg for case in GENERAL), GENERAL_ENC],
    )
    assert len(data["recipients"]) == 3
    for index, (private, case) in enumerate(zip(privates, GENERAL, strict=True)):
        result = jwe.decrypt_json(data, private, algorithms=[case.alg], encryptions=[GENERAL_ENC])
        assert result.plaintext == PLAINTEXT
        assert result.recipient_index == index
        assert result.recipient_header is not None
        assert result.recipient_header["kid"] == "abc"[index]
        assert result.algorithm == case.alg
        assert result.aad == AAD
        assert result.key is private


@pytest.mark.parametrize("peer", sorted(PEERS))
def test_general_json_from_peer_with_zip_and_aad_tampered_is_one_error(peer: str) -> None:
    case = GENERAL[2]
    require(peer, case, GENERAL_ENC)
    private = jwtkit_key(case.material)
    recipient = PEERS[peer].import_jwk(recipient_jwk(private))
    data = PEERS[peer].encrypt_json(
        COMPRESSIBLE,
        [(recipient, {"alg": case.alg})],
        protected={"enc": GENERAL_ENC, "zip": "DEF"},
        unprotected={"cty": "application/octet-stream"},
        aad=AAD,
        general=True,
        names=[case.alg, GENERAL_ENC],
    )
    result = jwe.decrypt_json(data, private, algorithms=[case.alg], encryptions=[GENERAL_ENC])
    assert result.plaintext == COMPRESSIBLE
    tampered = {**data, "aad": b64url(AAD + b"!")}
    with pytest.raises(DecryptionError, match=r"^decryption failed$"):
        jwe.decrypt_json(tampered, private, algorithms=[case.alg], encryptions=[GENERAL_ENC])


# --------------------------------------------------------------------------------------------
# RSA-OAEP-384/512: no peer has them; check them against cryptography's primitives directly.

OAEP_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RSA-OAEP-384": hashes.SHA384,
    "RSA-OAEP-512": hashes.SHA512,
}


@pytest.mark.parametrize("alg", sorted(OAEP_HASHES))
def test_rsa_oaep_384_and_512_are_oaep_with_mgf1_of_the_same_hash(alg: str) -> None:
    key = jwtkit_key("rsa")
    private = serialization.load_pem_private_key(key.to_pem(private=True), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    digest = OAEP_HASHES[alg]
    oaep = padding.OAEP(mgf=padding.MGF1(digest()), algorithm=digest(), label=None)

    token = jwe.encrypt(PLAINTEXT, key.public_key(), algorithm=alg, encryption="A256GCM")
    protected, encrypted_key, iv, ciphertext, tag = token.split(".")
    cek = private.decrypt(unb64url(encrypted_key), oaep)
    sealed = unb64url(ciphertext) + unb64url(tag)
    assert AESGCM(cek).decrypt(unb64url(iv), sealed, protected.encode("ascii")) == PLAINTEXT

    cek, nonce = os.urandom(32), os.urandom(12)
    header = b64url(json.dumps({"alg": alg, "enc": "A256GCM"}).encode())
    sealed = AESGCM(cek).encrypt(nonce, PLAINTEXT, header.encode("ascii"))
    wrapped = private.public_key().encrypt(cek, oaep)
    parts = [header, b64url(wrapped), b64url(nonce), b64url(sealed[:-16]), b64url(sealed[-16:])]
    result = jwe.decrypt(".".join(parts), key, algorithms=[alg], encryptions=["A256GCM"])
    assert result.plaintext == PLAINTEXT


# --------------------------------------------------------------------------------------------
# Nested JWTs (RFC 7519 §5.2, §11.2): an ES256 JWS inside an ECDH-ES+A256KW JWE, cty JWT.

NESTED_NOW = 1_700_000_000
NESTED_CLAIMS: dict[str, Any] = {
    "sub": "user-42",
    "aud": "api",
    "iat": NESTED_NOW,
    "email": "ada@example.com",
}
NESTED = Case("ECDH-ES+A256KW", "P-256")


@pytest.mark.parametrize("peer", sorted(PEERS))
def test_nested_jwt_from_jwtkit_opens_in_the_peer(peer: str) -> None:
    require(peer, NESTED, "A256GCM")
    issuer = jwtkit_key("P-256")
    audience = peer_key(peer, "P-256")
    token = jwtkit.encode(
        NESTED_CLAIMS,
        issuer,
        "ES256",
        encrypt_with=Key.from_jwk(PEERS[peer].export(audience)),
        encryption_algorithm=NESTED.alg,
        content_encryption="A256GCM",
    )
    header = json.loads(unb64url(token.split(".", maxsplit=1)[0]))
    assert header["cty"] == "JWT"
    inner = PEERS[peer].decrypt_compact(token, audience, [NESTED.alg, "A256GCM"]).decode("ascii")
    issuer_for_peer = PEERS[peer].import_jwk(issuer.public_key().to_jwk())
    assert json.loads(PEERS[peer].verify_es256(inner, issuer_for_peer)) == NESTED_CLAIMS


@pytest.mark.parametrize("peer", sorted(PEERS))
def test_nested_jwt_from_the_peer_decodes_in_jwtkit(peer: str) -> None:
    require(peer, NESTED, "A256GCM")
    issuer = peer_key(peer, "P-256")
    audience = jwtkit_key("P-256")
    inner = PEERS[peer].sign_es256(json.dumps(NESTED_CLAIMS).encode(), issuer)
    recipient = PEERS[peer].import_jwk(recipient_jwk(audience))
    header = {"alg": NESTED.alg, "enc": "A256GCM", "cty": "JWT"}
    token = PEERS[peer].encrypt_compact(inner.encode("ascii"), recipient, header)
    claims = jwtkit.decode(
        token,
        Key.from_jwk(PEERS[peer].export(issuer)),
        algorithms=["ES256"],
        audience="api",
        now=NESTED_NOW,
        require=["sub"],
        decryption_key=audience,
        decryption_algorithms=[NESTED.alg],
        content_encryptions=["A256GCM"],
    )
    assert claims == NESTED_CLAIMS
