"""Attack finding 6 and "one source of truth" item 2: the one-shot memos.

``jwtkit.encode``/``decode``/``decode_complete`` and ``jwtkit.jwe.decrypt``/``decrypt_json``
share prepared work between calls with the same arguments. Two keys that compare equal are
not interchangeable: ``allow_weak`` is not part of key equality, and a result reports the
caller's own key object. One memo rule (``jwtkit._memo``) decides for every one-shot path.
"""

from __future__ import annotations

from typing import Any

import pytest

import jwtkit
from jwtkit import _memo, jwe, jwt
from jwtkit.errors import InvalidKey, KeyNotFound
from jwtkit.jwk import Key, KeySet, OctKey

WEAK = b"0123456789abcdef"  # 128 bits: shorter than the 256-bit hash of HS256
STRONG = bytes(range(32))


def test_allow_weak_does_not_leak_from_one_decode_to_the_next() -> None:
    token = jwt.encode({"sub": "1"}, OctKey(WEAK, allow_weak=True), "HS256")
    assert jwt.decode(token, OctKey(WEAK, allow_weak=True), algorithms=["HS256"]) == {"sub": "1"}
    with pytest.raises((InvalidKey, KeyNotFound), match="shorter than the 256-bit hash"):
        jwt.decode(token, OctKey(WEAK), algorithms=["HS256"])
    with pytest.raises((InvalidKey, KeyNotFound), match="shorter than the 256-bit hash"):
        jwt.decode_complete(token, OctKey(WEAK), algorithms=["HS256"])


def test_allow_weak_does_not_leak_from_one_encode_to_the_next() -> None:
    assert jwt.encode({"sub": "1"}, OctKey(WEAK, allow_weak=True), "HS256")
    with pytest.raises(InvalidKey, match="shorter than the 256-bit hash"):
        jwt.encode({"sub": "1"}, OctKey(WEAK), "HS256")
    with pytest.raises(InvalidKey, match="shorter than the 256-bit hash"):
        jwt.encode({"sub": "1"}, OctKey(WEAK), None)


def test_allow_weak_does_not_leak_into_nested_jwt_decoding() -> None:
    recipient = OctKey(STRONG)
    token = jwt.encode(
        {"sub": "1"},
        OctKey(WEAK, allow_weak=True),
        "HS256",
        encrypt_with=recipient,
        encryption_algorithm="dir",
        content_encryption="A256GCM",
    )
    kwargs: dict[str, Any] = {
        "algorithms": ["HS256"],
        "decryption_key": recipient,
        "decryption_algorithms": ["dir"],
        "content_encryptions": ["A256GCM"],
    }
    assert jwt.decode(token, OctKey(WEAK, allow_weak=True), **kwargs) == {"sub": "1"}
    with pytest.raises((InvalidKey, KeyNotFound), match="shorter than the 256-bit hash"):
        jwt.decode(token, OctKey(WEAK), **kwargs)


def test_decode_complete_reports_the_callers_own_key() -> None:
    first, second = OctKey(STRONG, kid="k"), OctKey(STRONG, kid="k")
    assert first == second
    assert first is not second
    token = jwt.encode({"sub": "1"}, first, "HS256")
    assert jwt.decode_complete(token, first, algorithms=["HS256"]).key is first
    assert jwt.decode_complete(token, second, algorithms=["HS256"]).key is second
    assert jwt.decode_complete(token, [second], algorithms=["HS256"]).key is second
    assert jwt.decode_complete(token, [first], algorithms=["HS256"]).key is first
    keys = KeySet([second])
    assert jwt.decode_complete(token, keys, algorithms=["HS256"]).key is second


def test_jwe_decrypt_reports_the_callers_own_key() -> None:
    first, second = OctKey(STRONG), OctKey(STRONG)
    token = jwe.encrypt(b"x", first, algorithm="dir", encryption="A256GCM")
    for key in (first, second, first):
        result = jwe.decrypt(token, key, algorithms=["dir"], encryptions=["A256GCM"])
        assert result.key is key
        listed = jwe.decrypt(token, [key], algorithms=["dir"], encryptions=["A256GCM"])
        assert listed.key is key
        document = jwe.encrypt_json(b"x", [jwe.Recipient(key, "dir")], encryption="A256GCM")
        assert (
            jwe.decrypt_json(document, key, algorithms=["dir"], encryptions=["A256GCM"]).key is key
        )


def test_a_list_changed_after_a_call_is_read_again() -> None:
    good, other = OctKey(STRONG), OctKey(bytes(range(1, 33)))
    token = jwt.encode({"sub": "1"}, good, "HS256")
    keys: list[Key] = [good]
    assert jwt.decode(token, keys, algorithms=["HS256"]) == {"sub": "1"}
    keys[0] = other
    with pytest.raises(jwtkit.InvalidSignature):
        jwt.decode(token, keys, algorithms=["HS256"])
    sealed = jwe.encrypt(b"x", good, algorithm="dir", encryption="A256GCM")
    keys[0] = good
    assert jwe.decrypt(sealed, keys, algorithms=["dir"], encryptions=["A256GCM"]).key is good
    keys[0] = other
    with pytest.raises(jwtkit.DecryptionError):
        jwe.decrypt(sealed, keys, algorithms=["dir"], encryptions=["A256GCM"])


# -- the one rule ----------------------------------------------------------------------------


def test_key_part_tells_equal_keys_apart_and_secrets_by_value() -> None:
    weak, strict = OctKey(WEAK, allow_weak=True), OctKey(WEAK)
    assert weak == strict
    assert _memo.key_part(weak) != _memo.key_part(strict)
    assert _memo.key_part(STRONG) == _memo.key_part(bytes(STRONG))
    assert _memo.key_part(STRONG) != _memo.key_part(STRONG.decode("latin-1"))
    assert _memo.key_part([weak, STRONG]) == _memo.key_part((weak, STRONG))
    assert _memo.key_part([weak]) != _memo.key_part([strict])
    assert _memo.key_part(None) is None or _memo.key_part(None) == _memo.key_part(None)
    assert _memo.key_part(lambda header: weak) is _memo.UNSHARED
    assert _memo.key_part([weak, lambda header: weak]) is _memo.UNSHARED
    assert _memo.key_part(bytearray(STRONG)) is _memo.UNSHARED


def test_the_memo_is_bounded_and_holds_what_its_keys_name() -> None:
    memo: _memo.SharedMemo[str] = _memo.SharedMemo(3)
    held = [object() for _ in range(5)]
    for index, item in enumerate(held):
        memo.put(("k", index), f"v{index}", item)
        assert len(memo) <= 3
    assert memo.get(("k", 0)) is None
    assert memo.get(("k", 4)) == "v4"
    assert memo.values() == ["v2", "v3", "v4"]


def test_value_part_compares_values_and_their_types() -> None:
    class Name(str):
        __slots__ = ()

    assert _memo.value_part(["HS256"]) == _memo.value_part(["HS256"])
    assert _memo.value_part(["HS256"]) != _memo.value_part([Name("HS256")])
    assert _memo.value_part(["HS256"]) != _memo.value_part(("HS256",))
    assert _memo.value_part([1]) != _memo.value_part([True])
    assert _memo.value_part(1) != _memo.value_part(1.0)
    assert _memo.value_part({"a", "b"}) == _memo.value_part({"b", "a"})
    assert _memo.value_part({"verify_exp": False}) != _memo.value_part({"verify_exp": 0})
    assert _memo.value_part(_memo) == _memo.value_part(_memo)  # any other hashable: itself
    assert _memo.value_part([["HS256"]]) == _memo.value_part([["HS256"]])
    unshared: list[object] = [iter(["HS256"]), [bytearray(b"x")], {1: "a", "b": "c"}]
    for value in unshared:
        with pytest.raises(TypeError):
            _memo.value_part(value)


def test_key_subclasses_and_providers_stand_for_themselves() -> None:
    class MyKey(OctKey):
        pass

    mine = MyKey(STRONG)
    assert _memo.key_part(mine) == id(mine)
    assert _memo.held([mine]) == (mine,)
    assert _memo.held(mine) is mine

    class Provider:
        def keyset_for(self, header: object) -> KeySet:
            return KeySet([mine])

    provider = Provider()
    assert _memo.key_part(provider) == id(provider)
    assert repr(_memo.UNSHARED) == "UNSHARED"


def test_arguments_that_cannot_be_shared_get_fresh_work() -> None:
    key = OctKey(STRONG)
    token = jwt.encode({"sub": "1"}, key, "HS256")
    for _ in range(2):
        assert jwt.decode(token, key, algorithms=iter(["HS256"])) == {"sub": "1"}
    sealed = jwe.encrypt(b"x", key, algorithm="dir", encryption="A256GCM")
    for _ in range(2):
        assert (
            jwe.decrypt(sealed, key, algorithms=iter(["dir"]), encryptions=["A256GCM"]).key is key
        )
