"""JWE content encryption (RFC 7518 §5): the B.1-B.3 AES_CBC_HMAC_SHA2 vectors, AES-GCM, tampering.

Every failure of ``decrypt`` must be the one opaque ``DecryptionError("decryption failed")``.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from jwtkit._jwa_content import AESCBCHMAC, AESGCMContent, additional_length
from jwtkit.errors import DecryptionError
from jwtkit.jwa import CONTENT_ENCRYPTION_ALGORITHMS, ContentEncryptionAlgorithm
from vectors import load_rfc_cases

CBC = ("A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512")
GCM = ("A128GCM", "A192GCM", "A256GCM")


def _b_cases() -> list[Any]:
    cases = [c for c in load_rfc_cases("rfc7518") if c["kind"] == "content_encryption"]
    assert [c["id"] for c in cases] == ["B.1", "B.2", "B.3"], "RFC 7518 B vectors are missing"
    return [pytest.param(case, id=f"rfc7518-{case['id']}-{case['enc']}") for case in cases]


def _alg(name: str) -> ContentEncryptionAlgorithm:
    return CONTENT_ENCRYPTION_ALGORITHMS[name]


def _cbc(name: str) -> AESCBCHMAC:
    alg = _alg(name)
    assert isinstance(alg, AESCBCHMAC)
    return alg


def _flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


@pytest.mark.parametrize("case", _b_cases())
def test_rfc7518_appendix_b_vectors_reproduce_every_intermediate_value(
    case: dict[str, Any],
) -> None:
    alg = _cbc(case["enc"])
    expected = case["expected"]
    key, iv = bytes.fromhex(case["key_hex"]), bytes.fromhex(case["iv_hex"])
    aad, plaintext = bytes.fromhex(case["aad_hex"]), bytes.fromhex(case["plaintext_hex"])
    assert aad == case["aad_text"].encode()
    assert plaintext == case["plaintext_text"].encode()

    mac_key, enc_key = alg.split_key(key)
    assert mac_key.hex() == expected["mac_key_hex"]
    assert enc_key.hex() == expected["enc_key_hex"]
    assert additional_length(aad).hex() == expected["al_hex"]

    ciphertext, tag = alg.encrypt(key, iv, plaintext, aad)
    assert ciphertext.hex() == expected["ciphertext_hex"]
    assert alg.full_mac(mac_key, aad, iv, ciphertext).hex() == expected["m_hex"]
    assert tag.hex() == expected["tag_hex"]
    assert alg.decrypt(key, iv, ciphertext, tag, aad) == plaintext


def test_al_is_the_aad_length_in_bits_as_64_bit_big_endian() -> None:
    assert additional_length(b"") == bytes(8)
    assert additional_length(b"x" * 42) == (336).to_bytes(8, "big")
    # No overflow into another representation: 2**61 bytes would still fit in 64 bits.
    assert len(additional_length(b"y" * 100_000)) == 8


@pytest.mark.parametrize("name", CBC + GCM)
def test_round_trip_with_fresh_cek_and_iv(name: str) -> None:
    alg = _alg(name)
    cek, iv = alg.generate_cek(), alg.generate_iv()
    assert (len(cek), len(iv)) == (alg.key_size, alg.iv_size)
    for plaintext in (b"", b"a", b"sixteen bytes!!!", b"x" * 1000):
        ciphertext, tag = alg.encrypt(cek, iv, plaintext, b"aad")
        assert len(tag) == alg.tag_size
        assert alg.decrypt(cek, iv, ciphertext, tag, b"aad") == plaintext


@pytest.mark.parametrize("name", CBC + GCM)
def test_every_tampering_raises_the_same_decryption_error(name: str) -> None:
    alg = _alg(name)
    cek, iv = alg.generate_cek(), alg.generate_iv()
    ciphertext, tag = alg.encrypt(cek, iv, b"attack at dawn, attack at dusk", b"header")
    attempts = [
        (cek, iv, _flip(ciphertext), tag, b"header"),
        (cek, iv, _flip(ciphertext, len(ciphertext) - 1), tag, b"header"),
        (cek, iv, ciphertext, _flip(tag), b"header"),
        (cek, iv, ciphertext, _flip(tag, len(tag) - 1), b"header"),
        (cek, iv, ciphertext, tag, b"heades"),
        (cek, iv, ciphertext, tag, b""),
        (cek, _flip(iv), ciphertext, tag, b"header"),
        (_flip(cek), iv, ciphertext, tag, b"header"),
        (cek[:-1], iv, ciphertext, tag, b"header"),  # wrong CEK length
        (cek + b"\0", iv, ciphertext, tag, b"header"),
        (cek, iv[:-1], ciphertext, tag, b"header"),  # wrong IV length
        (cek, iv, ciphertext, tag[:-1], b"header"),  # truncated tag
        (cek, iv, ciphertext, tag + b"\0", b"header"),
        (cek, iv, ciphertext, b"", b"header"),
        (cek, iv, b"", tag, b"header"),
    ]
    for attempt in attempts:
        with pytest.raises(DecryptionError) as caught:
            alg.decrypt(*attempt)
        assert str(caught.value) == "decryption failed"
        assert caught.value.code == "decryption_failed"


@pytest.mark.parametrize("name", GCM)
def test_gcm_ciphertext_tag_boundary_cannot_be_moved(name: str) -> None:
    """Security matrix C4: the tag is exactly the last 16 bytes; shifting bytes fails."""
    alg = _alg(name)
    cek, iv = alg.generate_cek(), alg.generate_iv()
    ciphertext, tag = alg.encrypt(cek, iv, b"some plaintext", b"")
    with pytest.raises(DecryptionError):
        alg.decrypt(cek, iv, ciphertext[:-1], ciphertext[-1:] + tag, b"")
    with pytest.raises(DecryptionError):
        alg.decrypt(cek, iv, ciphertext + tag[:1], tag[1:], b"")


@pytest.mark.parametrize("name", CBC)
def test_cbc_ciphertext_not_a_whole_number_of_blocks_is_refused(name: str) -> None:
    alg = _alg(name)
    cek, iv = alg.generate_cek(), alg.generate_iv()
    ciphertext, tag = alg.encrypt(cek, iv, b"x" * 20, b"")
    with pytest.raises(DecryptionError):
        alg.decrypt(cek, iv, ciphertext[:-1], tag, b"")


@pytest.mark.parametrize("name", CBC)
def test_cbc_bad_padding_behind_a_valid_tag_is_the_same_error(name: str) -> None:
    """Only the key holder can make a valid tag over bad padding; it still fails opaquely."""
    alg = _cbc(name)
    cek, iv = alg.generate_cek(), alg.generate_iv()
    mac_key, enc_key = alg.split_key(cek)
    block = b"\x00" * 15 + b"\x11"  # last byte 17: not valid PKCS#7 for 16-byte blocks
    encryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(block) + encryptor.finalize()
    tag = alg.full_mac(mac_key, b"", iv, ciphertext)[: alg.tag_size]
    with pytest.raises(DecryptionError) as caught:
        alg.decrypt(cek, iv, ciphertext, tag, b"")
    assert str(caught.value) == "decryption failed"


@pytest.mark.parametrize("name", CBC + GCM)
def test_encrypt_refuses_wrong_cek_or_iv_length(name: str) -> None:
    alg = _alg(name)
    with pytest.raises(ValueError, match="CEK"):
        alg.encrypt(bytes(alg.key_size - 1), alg.generate_iv(), b"x", b"")
    with pytest.raises(ValueError, match="IV"):
        alg.encrypt(alg.generate_cek(), bytes(alg.iv_size + 1), b"x", b"")


def test_sizes_follow_rfc7518_section_5() -> None:
    sizes = {
        name: (alg.key_size, alg.iv_size, alg.tag_size)
        for name, alg in CONTENT_ENCRYPTION_ALGORITHMS.items()
    }
    assert sizes == {
        "A128CBC-HS256": (32, 16, 16),
        "A192CBC-HS384": (48, 16, 24),
        "A256CBC-HS512": (64, 16, 32),
        "A128GCM": (16, 12, 16),
        "A192GCM": (24, 12, 16),
        "A256GCM": (32, 12, 16),
    }
    assert all(isinstance(CONTENT_ENCRYPTION_ALGORITHMS[n], AESGCMContent) for n in GCM)


def test_the_base_class_is_abstract() -> None:
    base = ContentEncryptionAlgorithm("X", 16, 12, 16)
    with pytest.raises(NotImplementedError):
        base.encrypt(bytes(16), bytes(12), b"", b"")
    with pytest.raises(NotImplementedError):
        base.decrypt(bytes(16), bytes(12), b"", bytes(16), b"")
