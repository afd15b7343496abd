"""Every JWE vector: RFC 7516 A.1-A.5, RFC 7517 C, RFC 7519 A.1/A.2 (the JWE layer) and the
whole RFC 7520 cookbook (``jwe/``, ``curve25519/ecdh-es.json``, the outer JWE of §6).

Each ``output.*`` form is decrypted with the case's key(s); reproducible cases are regenerated
byte for byte from the CEK, IV, ephemeral key, salt and GCM-wrap IV the case fixes (see
``shared/vectors/rfc7520/README.md``, "Reproducibility"). Opt-in algorithms (RSA1_5, PBES2) are
decrypted with a registry that opts in, and refused with the default one.

The cookbook quirks (README "Known quirks") are decided here, each in a test named after it:

* quirk 3 (5.13 ``input.enc`` misspelled): ``enc`` is read from the protected header;
* quirk 4 (``curve25519/ecdh-es.json`` stale CEK and mismatched ``epk``): only ``input.key``
  against ``output.*`` is trusted; the derived CEK is checked to be the README's;
* quirk 5 (5.1 "reproducible" although RSA1_5 is randomized): only the content step is;
* quirk 6 (5.5/5.6/ecdh-es ``json`` without ``recipients``): read as the flattened syntax,
  which is exactly what an object without ``recipients`` is (RFC 7516 §7.2.2);
* quirk 7 (5.6 ``dir`` key with ``"alg": "A128GCM"``): accepted, because that key still serves
  one algorithm only (A128GCM content encryption); the same key is refused for another ``enc``;
* quirk 9 (5.12 no protected header): decrypts, with an empty protected header;
* quirk 10 (5.9 compressor output): regenerated from ``plaintext_c``, compared decompressed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from jwtkit import jwa, jwe
from jwtkit._codec import b64url_decode, b64url_encode, json_loads_object
from jwtkit._jwa_keymgmt import PBES2, concat_kdf, ecdh_shared_secret
from jwtkit._jwe_common import _inflate
from jwtkit._jwe_encrypt import _assemble, _seal_compact
from jwtkit.errors import InvalidKey, JWTError
from jwtkit.jwk import Key, KeySet, OctKey
from vectors import cookbook_paths, load_cookbook, load_rfc_cases

from .jwe_helpers import OPT_IN

COOKBOOK_JWE = [
    *cookbook_paths("jwe"),
    "curve25519/ecdh-es.json",
    "6.nesting_signatures_and_encryption.json",
]
OPT_IN_NAMES = {"RSA1_5", "PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW"}


def test_every_expected_cookbook_file_is_present() -> None:
    assert len(cookbook_paths("jwe")) == 13, "the RFC 7520 jwe/ folder must hold 13 files"


# -- RFC 7516, 7517, 7519 -------------------------------------------------------------------


def _rfc_cases(rfc: str, kind: str = "jwe") -> list[Any]:
    cases = [c for c in load_rfc_cases(rfc) if c["kind"] == kind]
    assert cases, f"no {kind} case in {rfc}"
    return [pytest.param(case, id=f"{rfc}-{case['id']}") for case in cases]


def _keys(case: dict[str, Any]) -> KeySet:
    return KeySet(Key.from_jwk(jwk) for jwk in case.get("keys", [case.get("key")]))


def _algorithms_of(case: dict[str, Any]) -> list[str]:
    if "alg" in case:
        return [case["alg"]]
    return [r["header"]["alg"] for r in case["json"]["recipients"]]


def _decrypt_case(case: dict[str, Any], registry: jwa.Registry) -> jwe.DecryptedJWE:
    kwargs: dict[str, Any] = {
        "algorithms": _algorithms_of(case),
        "encryptions": [case["enc"]],
        "registry": registry,
    }
    if "token" in case:
        return jwe.decrypt(case["token"], _keys(case), **kwargs)
    return jwe.decrypt_json(case["json"], _keys(case), **kwargs)


def _rfc_jwe_cases() -> list[Any]:
    return _rfc_cases("rfc7516") + _rfc_cases("rfc7517")


@pytest.mark.parametrize("case", _rfc_jwe_cases())
def test_rfc_jwe_case_decrypts(case: dict[str, Any]) -> None:
    assert case["expected"]["valid"] is True
    result = _decrypt_case(case, OPT_IN if case.get("opt_in") else jwa.DEFAULT_REGISTRY)
    assert result.plaintext == case["expected"]["plaintext"].encode("utf-8")
    assert result.encryption == case["enc"]
    assert result.header == json.loads(case["protected_header"])


@pytest.mark.parametrize("case", [c for c in _rfc_jwe_cases() if c.values[0].get("opt_in")])
def test_rfc_opt_in_case_is_refused_by_the_default_registry(case: dict[str, Any]) -> None:
    with pytest.raises(JWTError, match="including"):
        _decrypt_case(case, jwa.DEFAULT_REGISTRY)


@pytest.mark.parametrize("case", _rfc_jwe_cases())
def test_rfc_jwe_content_step_reproduces_from_cek_and_iv(case: dict[str, Any]) -> None:
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS[case["enc"]]
    cek, iv = b64url_decode(case["cek_b64u"]), b64url_decode(case["iv_b64u"])
    protected = b64url_encode(case["protected_header"].encode("utf-8"))
    plaintext = case["expected"]["plaintext"].encode("utf-8")
    if "token" in case:
        parts = case["token"].split(".")
        assert parts[0] == protected
        expected_iv, ciphertext, tag = parts[2:]
    else:
        assert case["json"]["protected"] == protected
        expected_iv, ciphertext, tag = (case["json"][m] for m in ("iv", "ciphertext", "tag"))
    assert b64url_encode(iv) == expected_iv
    produced = enc.encrypt(cek, iv, plaintext, protected.encode("ascii"))
    assert tuple(b64url_encode(p) for p in produced) == (ciphertext, tag)


def _recipients_of(case: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    if "token" in case:
        return [(json.loads(case["protected_header"]), case["token"].split(".")[1])]
    jwe_json = case["json"]
    if "recipients" in jwe_json:
        return [(r["header"], r["encrypted_key"]) for r in jwe_json["recipients"]]
    return [(jwe_json["header"], jwe_json["encrypted_key"])]


@pytest.mark.parametrize("case", _rfc_jwe_cases())
def test_rfc_jwe_encrypted_key_unwraps_to_the_cek_and_reproduces_when_deterministic(
    case: dict[str, Any],
) -> None:
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS[case["enc"]]
    cek = b64url_decode(case["cek_b64u"])
    keys = _keys(case)
    for header, encrypted_key in _recipients_of(case):
        alg = OPT_IN.key_management(header["alg"])
        assert alg is not None
        key = next(k for k in keys if k.kid == header.get("kid"))
        parameters = alg.read_parameters(header, 10**6)
        assert alg.unwrap(key, enc, parameters, b64url_decode(encrypted_key)) == cek
        if header["alg"] not in {"RSA1_5", "RSA-OAEP"}:  # randomized padding
            wrapped = alg.wrap(key, enc, header, cek)
            assert b64url_encode(wrapped.encrypted_key) == encrypted_key


@pytest.mark.parametrize("case", [c for c in _rfc_jwe_cases() if "token" in c.values[0]])
def test_rfc_reproducible_compact_token_regenerates_byte_for_byte(case: dict[str, Any]) -> None:
    if not case["reproducible"]:
        assert case["alg"] in {"RSA-OAEP", "RSA1_5"}  # randomized padding
        return
    alg = OPT_IN.key_management(case["alg"])
    enc = OPT_IN.content_encryption(case["enc"])
    assert alg is not None
    assert enc is not None
    token = _seal_compact(
        case["expected"]["plaintext"].encode("utf-8"),
        _keys(case)[0],
        alg,
        enc,
        json.loads(case["protected_header"]),
        compress=False,
        cek=b64url_decode(case["cek_b64u"]),
        iv=b64url_decode(case["iv_b64u"]),
        protected_segment=b64url_encode(case["protected_header"].encode("utf-8")),
    )
    assert token == case["token"]


def test_rfc7516_a4_either_recipient_alone_decrypts_and_is_reported() -> None:
    (case,) = (c.values[0] for c in _rfc_cases("rfc7516") if c.values[0]["id"] == "A.4")
    rsa, oct_key = (Key.from_jwk(k) for k in case["keys"])
    encs = ["A128CBC-HS256"]
    first = jwe.decrypt_json(
        case["json"], rsa, algorithms=["RSA1_5", "A128KW"], encryptions=encs, registry=OPT_IN
    )
    assert (first.recipient_index, first.algorithm, first.key) == (0, "RSA1_5", rsa)
    second = jwe.decrypt_json(case["json"], oct_key, algorithms=["A128KW"], encryptions=encs)
    assert (second.recipient_index, second.algorithm, second.key) == (1, "A128KW", oct_key)
    assert second.unprotected == {"jku": "https://server.example.com/keys.jwks"}
    assert second.recipient_header == {"alg": "A128KW", "kid": "7"}
    assert second.joint_header["jku"] == "https://server.example.com/keys.jwks"
    assert len(case["json"]["recipients"]) == case["expected"]["recipient_count"]


def test_rfc7516_a5_flattened_json_regenerates_byte_for_byte() -> None:
    (case,) = (c.values[0] for c in _rfc_cases("rfc7516") if c.values[0]["id"] == "A.5")
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS[case["enc"]]
    key = _keys(case)[0]
    cek, iv = b64url_decode(case["cek_b64u"]), b64url_decode(case["iv_b64u"])
    header = case["json"]["header"]
    wrapped = jwa.KEY_MANAGEMENT_ALGORITHMS["A128KW"].wrap(key, enc, header, cek)
    protected = b64url_encode(case["protected_header"].encode())
    sealed = enc.encrypt(cek, iv, case["expected"]["plaintext"].encode(), protected.encode())
    produced = _assemble(
        protected,
        case["json"]["unprotected"],
        [(header, wrapped.encrypted_key)],
        None,
        (iv, *sealed),
        flatten=True,
    )
    assert produced == case["json"]


def test_rfc7517_c_pbes2_derives_the_published_kek_and_the_jwk_plaintext() -> None:
    (case,) = (c.values[0] for c in _rfc_cases("rfc7517"))
    assert case["key"]["k"] == b64url_encode(case["password"].encode("utf-8"))
    header = json.loads(case["protected_header"])
    alg = jwa.PBES2_HS256_A128KW
    assert isinstance(alg, PBES2)
    kek = alg._kek(case["password"].encode(), b64url_decode(header["p2s"]), header["p2c"])
    assert b64url_encode(kek) == case["expected"]["derived_kek_b64u"]
    result = _decrypt_case(case, OPT_IN)
    assert json.loads(result.plaintext) == case["expected"]["plaintext_jwk"]
    assert result.header["cty"] == "jwk+json"
    # The password as text is a key too (the oct JWK holds the same octets).
    by_text = jwe.decrypt(
        case["token"],
        case["password"],
        algorithms=[case["alg"]],
        encryptions=[case["enc"]],
        registry=OPT_IN,
    )
    assert by_text.plaintext == result.plaintext


@pytest.mark.parametrize("case", _rfc_cases("rfc7519", "jwt"))
def test_rfc7519_encrypted_jwts_decrypt_at_the_jwe_layer(case: dict[str, Any]) -> None:
    """A.1: the plaintext is the claims JSON; A.2 (nested): the outer JWE gives the inner JWS.

    The JWT layer (claims, nested verification) is tested elsewhere; here only the JWE.
    """
    if "alg" not in case or case["alg"] not in OPT_IN.key_management_names:
        assert case["id"] in {"3.1", "6.1"}  # JWS cases of RFC 7519
        return
    result = jwe.decrypt(
        case["token"],
        Key.from_jwk(case["key"]),
        algorithms=[case["alg"]],
        encryptions=[case["enc"]],
        registry=OPT_IN,
    )
    assert result.header == json.loads(case["protected_header"])
    expected = case["expected"]
    if "inner_token" in expected:
        assert result.header["cty"] == "JWT"
        assert result.plaintext.decode("ascii") == expected["inner_token"]
    else:
        assert result.plaintext.decode("utf-8") == expected["plaintext"]
        assert json.loads(result.plaintext) == expected["claims"]
    with pytest.raises(JWTError, match="including"):
        jwe.decrypt(
            case["token"],
            Key.from_jwk(case["key"]),
            algorithms=[case["alg"]],
            encryptions=[case["enc"]],
        )


# -- RFC 7520 cookbook ----------------------------------------------------------------------


def _cookbook(path: str) -> dict[str, Any]:
    document = load_cookbook(path)
    found: dict[str, Any] = document.get("encrypt", document)
    return found


def _cookbook_keys(doc: dict[str, Any]) -> KeySet:
    inputs = doc["input"]
    if "pwd" in inputs:
        return KeySet([OctKey(inputs["pwd"])])
    keys = inputs["key"] if isinstance(inputs["key"], list) else [inputs["key"]]
    return KeySet(Key.from_jwk(k) for k in keys)


def _cookbook_algs(doc: dict[str, Any]) -> list[str]:
    algs = doc["input"]["alg"]
    return list(algs) if isinstance(algs, list) else [algs]


def _cookbook_enc(doc: dict[str, Any]) -> str:
    """``enc`` from the headers, never from ``input.enc`` (quirk 3: 5.13 misspells it)."""
    content = doc["encrypting_content"]
    header = content.get("protected") or content["unprotected"]
    return str(header["enc"])


def _registry_for(algs: list[str]) -> jwa.Registry:
    return OPT_IN if OPT_IN_NAMES & set(algs) else jwa.DEFAULT_REGISTRY


def _outputs() -> list[Any]:
    params = []
    for path in COOKBOOK_JWE:
        for form in sorted(_cookbook(path)["output"]):
            params.append(pytest.param(path, form, id=f"{path.split('.')[0]}-{form}"))
    return params


def _decrypt_output(doc: dict[str, Any], form: str, registry: jwa.Registry) -> jwe.DecryptedJWE:
    output = doc["output"][form]
    kwargs: dict[str, Any] = {
        "algorithms": _cookbook_algs(doc),
        "encryptions": [_cookbook_enc(doc)],
        "registry": registry,
    }
    if form == "compact":
        return jwe.decrypt(output, _cookbook_keys(doc), **kwargs)
    return jwe.decrypt_json(output, _cookbook_keys(doc), **kwargs)


@pytest.mark.parametrize(("path", "form"), _outputs())
def test_cookbook_output_decrypts_to_the_plaintext(path: str, form: str) -> None:
    doc = _cookbook(path)
    result = _decrypt_output(doc, form, _registry_for(_cookbook_algs(doc)))
    assert result.plaintext == doc["input"]["plaintext"].encode("utf-8")
    assert result.header == doc["encrypting_content"].get("protected", {})
    if form != "compact":
        assert result.unprotected == doc["encrypting_content"].get("unprotected")
        assert result.aad == (
            doc["input"]["aad"].encode("utf-8") if "aad" in doc["input"] else None
        )


@pytest.mark.parametrize(("path", "form"), _outputs())
def test_cookbook_output_with_an_opt_in_algorithm_is_refused_by_default(
    path: str, form: str
) -> None:
    doc = _cookbook(path)
    algs = _cookbook_algs(doc)
    if not OPT_IN_NAMES & set(algs):
        assert _registry_for(algs) is jwa.DEFAULT_REGISTRY
        return
    with pytest.raises(JWTError, match="including"):
        _decrypt_output(doc, form, jwa.DEFAULT_REGISTRY)
    # Not listing the opt-in algorithm is refused too, unless another recipient decrypts.
    allowed = [a for a in algs if a not in OPT_IN_NAMES]
    kwargs: dict[str, Any] = {"encryptions": [_cookbook_enc(doc)]}
    if not allowed:
        decrypt: Any = jwe.decrypt if form == "compact" else jwe.decrypt_json
        with pytest.raises(JWTError):
            decrypt(doc["output"][form], _cookbook_keys(doc), algorithms=["A128KW"], **kwargs)
    else:
        result = jwe.decrypt_json(
            doc["output"][form], _cookbook_keys(doc), algorithms=allowed, **kwargs
        )
        assert result.algorithm in allowed


def _ephemeral(entry: dict[str, Any]) -> Key | None:
    return Key.from_jwk(entry["epk"]) if "epk" in entry else None


def _joint(doc: dict[str, Any], header: dict[str, Any] | None) -> dict[str, Any]:
    content = doc["encrypting_content"]
    return {**content.get("protected", {}), **content.get("unprotected", {}), **(header or {})}


def _regenerate(doc: dict[str, Any]) -> dict[str, Any]:
    """Every output form rebuilt from the case's inputs and fixed random values."""
    content = doc["encrypting_content"]
    generated = doc["generated"]
    enc = OPT_IN.content_encryption(_cookbook_enc(doc))
    assert enc is not None
    entries = doc.get("encrypting_key")
    entries = entries if isinstance(entries, list) else [entries or {}]
    keys = list(_cookbook_keys(doc))
    cek = b64url_decode(generated["cek"]) if "cek" in generated else None
    recipients: list[tuple[dict[str, Any], bytes]] = []
    for index, (entry, name) in enumerate(zip(entries, _cookbook_algs(doc), strict=True)):
        alg = OPT_IN.key_management(name)
        assert alg is not None
        header = entry.get("header")
        joint = _joint(doc, header)
        key = keys[index]
        if name == "RSA1_5":  # randomized: keep the given encrypted key, check it unwraps
            encrypted = b64url_decode(entry["encrypted_key"])
            parameters = alg.read_parameters(joint, 10**6)
            assert cek is not None
            assert alg.unwrap(key, enc, parameters, encrypted) == cek
        else:
            public = key if isinstance(key, OctKey) else key.public_key()
            if name == "dir" and isinstance(key, OctKey) and key.alg == enc.name:
                public = OctKey(key.secret, alg="dir")  # quirk 7, as decrypt() reads it
            wrap_iv = b64url_decode(entry["iv"]) if "iv" in entry else None
            wrapped = alg.wrap(public, enc, joint, cek, ephemeral=_ephemeral(entry), iv=wrap_iv)
            for param, value in wrapped.header.items():
                assert joint[param] == value, param
            encrypted, cek = wrapped.encrypted_key, wrapped.cek
            if "cek" in entry:  # 5.5: the agreed key is published
                assert b64url_encode(cek) == entry["cek"]
        recipients.append((header or {}, encrypted))
    assert cek is not None
    protected = content.get("protected_b64u", "")
    aad_segment = generated.get("aad_b64u")
    signed = protected if aad_segment is None else f"{protected}.{aad_segment}"
    # Quirk 10: the compressed plaintext is encrypted as given.
    plaintext = (
        b64url_decode(generated["plaintext_c"])
        if "plaintext_c" in generated
        else doc["input"]["plaintext"].encode("utf-8")
    )
    iv = b64url_decode(generated["iv"])
    ciphertext, tag = enc.encrypt(cek, iv, plaintext, signed.encode("ascii"))
    assert (b64url_encode(ciphertext), b64url_encode(tag)) == (
        content["ciphertext"],
        content["tag"],
    )
    unprotected = content.get("unprotected", {})
    forms: dict[str, Any] = {
        "json": _assemble(
            protected, unprotected, recipients, aad_segment, (iv, ciphertext, tag), flatten=False
        ),
    }
    if len(recipients) == 1:
        forms["json_flat"] = _assemble(
            protected, unprotected, recipients, aad_segment, (iv, ciphertext, tag), flatten=True
        )
        forms["compact"] = ".".join(
            [protected, *(b64url_encode(p) for p in (recipients[0][1], iv, ciphertext, tag))]
        )
    if not protected:
        for form in forms.values():
            if isinstance(form, dict):
                form.pop("protected")  # 5.12: no protected header at all
    return forms


# Files whose every output regenerates byte for byte (README's table; 5.4/5.5 lack the flag).
REPRODUCIBLE = {"5_3", "5_4", "5_5", "5_6", "5_7", "5_8", "5_9", "5_10", "5_11", "5_12", "5_13"}


def _short_name(path: str) -> str:
    return path.rsplit("/", maxsplit=1)[-1].split(".", maxsplit=1)[0]


@pytest.mark.parametrize("path", [p for p in COOKBOOK_JWE if _short_name(p) in REPRODUCIBLE])
def test_cookbook_reproducible_outputs_regenerate_byte_for_byte(path: str) -> None:
    doc = _cookbook(path)
    forms = _regenerate(doc)
    for form, expected in doc["output"].items():
        if form == "json" and "recipients" not in expected:
            assert forms["json_flat"] == expected  # quirk 6
        else:
            assert forms[form] == expected, form


@pytest.mark.parametrize(
    "path", [p for p in COOKBOOK_JWE if p.startswith(("jwe/5_1.", "jwe/5_2.", "6."))]
)
def test_cookbook_randomized_key_encryption_only_the_content_step_reproduces_quirk_5(
    path: str,
) -> None:
    """5.1 is flagged reproducible, but RSA1_5 padding is random: CEK and content only."""
    doc = _cookbook(path)
    keys = _cookbook_keys(doc)
    alg = OPT_IN.key_management(_cookbook_algs(doc)[0])
    enc = OPT_IN.content_encryption(_cookbook_enc(doc))
    assert alg is not None
    assert enc is not None
    encrypted = b64url_decode(doc["encrypting_key"]["encrypted_key"])
    cek = alg.unwrap(keys[0], enc, alg.read_parameters({}, 0), encrypted)
    assert b64url_encode(cek) == doc["generated"]["cek"]
    protected = doc["encrypting_content"]["protected_b64u"]
    ciphertext, tag = enc.encrypt(
        cek,
        b64url_decode(doc["generated"]["iv"]),
        doc["input"]["plaintext"].encode("utf-8"),
        protected.encode(),
    )
    assert b64url_encode(ciphertext) == doc["encrypting_content"]["ciphertext"]
    assert b64url_encode(tag) == doc["encrypting_content"]["tag"]


def test_cookbook_5_13_reads_enc_from_the_protected_header_not_the_misspelled_input_quirk_3() -> (
    None
):
    doc = _cookbook("jwe/5_13.encrypting_to_multiple_recipients.json")
    assert doc["input"]["enc"] == "A128CBC-H256"
    assert _cookbook_enc(doc) == "A128CBC-HS256"
    with pytest.raises(JWTError):
        jwe.decrypt_json(
            doc["output"]["json"],
            _cookbook_keys(doc),
            algorithms=_cookbook_algs(doc),
            encryptions=[doc["input"]["enc"]],
            registry=OPT_IN,
        )


def test_cookbook_5_13_each_recipient_key_alone_decrypts_its_own_entry() -> None:
    doc = _cookbook("jwe/5_13.encrypting_to_multiple_recipients.json")
    algs = _cookbook_algs(doc)
    for index, key in enumerate(_cookbook_keys(doc)):
        result = jwe.decrypt_json(
            doc["output"]["json"],
            key,
            algorithms=algs,
            encryptions=["A128CBC-HS256"],
            registry=OPT_IN,
        )
        assert (result.recipient_index, result.algorithm, result.key) == (index, algs[index], key)
        assert result.recipient_header == doc["output"]["json"]["recipients"][index]["header"]
        assert result.unprotected == {"cty": "text/plain"}
        assert result.joint_header["cty"] == "text/plain"


def test_cookbook_json_without_recipients_reads_as_flattened_rfc7516_7_2_2_quirk_6() -> None:
    for path in (
        "jwe/5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json",
        "jwe/5_6.direct_encryption_using_aes-gcm.json",
        "curve25519/ecdh-es.json",
    ):
        doc = _cookbook(path)
        assert "recipients" not in doc["output"]["json"]
        assert doc["output"]["json"] == doc["output"]["json_flat"]
        result = _decrypt_output(doc, "json", jwa.DEFAULT_REGISTRY)
        assert result.recipient_index == 0
        assert result.recipient_header is None


def test_cookbook_5_6_dir_key_whose_alg_names_the_enc_is_accepted_quirk_7() -> None:
    """The key says ``"alg": "A128GCM"``: it is the CEK of A128GCM content, one algorithm."""
    doc = _cookbook("jwe/5_6.direct_encryption_using_aes-gcm.json")
    key = _cookbook_keys(doc)[0]
    assert isinstance(key, OctKey)
    assert (key.alg, doc["input"]["alg"], _cookbook_enc(doc)) == ("A128GCM", "dir", "A128GCM")
    result = jwe.decrypt(doc["output"]["compact"], key, algorithms=["dir"], encryptions=["A128GCM"])
    assert result.key is key  # the caller's own key object is reported
    assert result.plaintext == doc["input"]["plaintext"].encode("utf-8")
    token = jwe.encrypt(b"again", key, algorithm="dir", encryption="A128GCM")
    assert (
        jwe.decrypt(token, key, algorithms=["dir"], encryptions=["A128GCM"]).plaintext == b"again"
    )


def test_cookbook_5_6_dir_key_bound_to_another_enc_is_refused_quirk_7() -> None:
    doc = _cookbook("jwe/5_6.direct_encryption_using_aes-gcm.json")
    jwk = dict(doc["input"]["key"], alg="A128CBC-HS256")
    other = OctKey(b64url_decode(jwk["k"]), kid=jwk["kid"], use="enc", alg="A128CBC-HS256")
    with pytest.raises(InvalidKey):
        jwe.decrypt(doc["output"]["compact"], other, algorithms=["dir"], encryptions=["A128GCM"])
    with pytest.raises(InvalidKey):
        jwe.encrypt(b"x", other, algorithm="dir", encryption="A128GCM")
    # A key bound to another key-management algorithm is refused for dir as well.
    wrapped = OctKey(b64url_decode(jwk["k"]), alg="A128KW")
    with pytest.raises(InvalidKey):
        jwe.decrypt(doc["output"]["compact"], wrapped, algorithms=["dir"], encryptions=["A128GCM"])


def test_cookbook_5_12_without_protected_header_decrypts_with_an_empty_one_quirk_9() -> None:
    doc = _cookbook("jwe/5_12.protecting_content_only.json")
    for form in ("json", "json_flat"):
        assert "protected" not in doc["output"][form]
        result = _decrypt_output(doc, form, jwa.DEFAULT_REGISTRY)
        assert result.header == {}
        assert result.joint_header["enc"] == "A128GCM"


def test_cookbook_5_9_compressed_plaintext_decompresses_to_the_text_quirk_10() -> None:
    doc = _cookbook("jwe/5_9.compressed_content.json")
    compressed = b64url_decode(doc["generated"]["plaintext_c"])
    assert _inflate(compressed, 10_000) == doc["input"]["plaintext"].encode("utf-8")
    result = _decrypt_output(doc, "compact", jwa.DEFAULT_REGISTRY)
    assert result.header["zip"] == "DEF"
    # jwtkit's own compressor round-trips too (its bytes may differ from plaintext_c).
    token = jwe.encrypt(
        result.plaintext,
        _cookbook_keys(doc)[0],
        algorithm="A128KW",
        encryption="A128GCM",
        compress=True,
    )
    again = jwe.decrypt(token, _cookbook_keys(doc), algorithms=["A128KW"], encryptions=["A128GCM"])
    assert again.plaintext == result.plaintext


def test_cookbook_5_9_compact_regenerates_through_the_sealing_path() -> None:
    doc = _cookbook("jwe/5_9.compressed_content.json")
    alg = jwa.KEY_MANAGEMENT_ALGORITHMS["A128KW"]
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128GCM"]
    protected = doc["encrypting_content"]["protected_b64u"]
    token = _seal_compact(
        b64url_decode(doc["generated"]["plaintext_c"]),
        _cookbook_keys(doc)[0],
        alg,
        enc,
        json_loads_object(b64url_decode(protected)),
        compress=False,
        cek=b64url_decode(doc["generated"]["cek"]),
        iv=b64url_decode(doc["generated"]["iv"]),
        protected_segment=protected,
    )
    assert token == doc["output"]["compact"]


def test_curve25519_ecdh_es_stale_cek_and_mismatched_epk_are_ignored_quirk_4() -> None:
    """Only ``input.key`` against ``output.*`` is trusted: the header's epk derives the CEK."""
    doc = _cookbook("curve25519/ecdh-es.json")
    header = doc["encrypting_content"]["protected"]
    assert header["epk"]["x"] != doc["encrypting_key"]["epk"]["x"]
    key = _cookbook_keys(doc)[0]
    z = ecdh_shared_secret(key, Key.from_jwk(header["epk"]))
    cek = concat_kdf(z, "A128GCM", b"", b"", 16)
    assert b64url_encode(cek) == "Ki_rbt1xmIK-KsT0ax0yDQ"
    assert b64url_encode(cek) != doc["encrypting_key"]["cek"]
    with pytest.raises(InvalidKey):  # the file's epk object is not one key pair
        Key.from_jwk(doc["encrypting_key"]["epk"])
    result = _decrypt_output(doc, "compact", jwa.DEFAULT_REGISTRY)
    assert result.plaintext == doc["input"]["plaintext"].encode("utf-8")


def test_cookbook_6_outer_jwe_carries_the_inner_signed_jwt() -> None:
    document = load_cookbook("6.nesting_signatures_and_encryption.json")
    doc = document["encrypt"]
    assert doc["input"]["plaintext"] == document["sign"]["output"]["compact"]
    result = _decrypt_output(doc, "compact", jwa.DEFAULT_REGISTRY)
    assert result.header["cty"] == "JWT"
    assert result.plaintext.decode("ascii") == document["sign"]["output"]["compact"]


def test_fixed_header_bytes_must_agree_with_the_computed_key_management_parameters() -> None:
    """The test-vector path of ``_seal_compact`` refuses a header its own wrap contradicts."""
    alg = jwa.KEY_MANAGEMENT_ALGORITHMS["A128GCMKW"]
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128GCM"]
    header = {"alg": "A128GCMKW", "enc": "A128GCM", "iv": "AAAAAAAAAAAAAAAA", "tag": "AA"}
    with pytest.raises(ValueError, match="disagrees"):
        _seal_compact(
            b"x",
            OctKey(bytes(16), allow_weak=True),
            alg,
            enc,
            header,
            compress=False,
            wrap_iv=bytes(12),
            protected_segment=b64url_encode(json.dumps(header).encode()),
        )
