"""What ``DPoPVerifier`` remembers between proofs: bounded, keyed exactly, shared safely.

A verifier keeps, per proof header segment whose signature verified, the key built from its
``jwk``, the key's thumbprint and its verify function; request URLs and ``htu`` values keep
their normalized form. These tests show that neither memo grows past its bound, that nothing
but the exact same segment or URL finds an entry (another key with the same ``kid``, a tampered
``jwk``, a forged signature), that every check still runs on a hit, and that threads share them.
No test here measures time.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest

import jwtkit
from jwtkit import dpop, jws
from jwtkit._memo import SharedMemo
from jwtkit.dpop import DPOP_TYP, DPoPVerifier, create_proof, normalize_htu
from jwtkit.errors import InvalidDPoPProof, UsageError
from jwtkit.testing import FrozenClock

NOW = 1_700_000_000
URL = "https://api.example/items"
TOKEN = "an-access-token"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def urls(monkeypatch: pytest.MonkeyPatch) -> SharedMemo[str]:
    """A fresh URL memo of 4 entries in place of the process's one."""
    memo: SharedMemo[str] = SharedMemo(4)
    monkeypatch.setattr(dpop, "_NORMALIZED_URLS", memo)
    return memo


def _proof(key: jwtkit.Key, clock: FrozenClock, **options: Any) -> str:
    return create_proof(key, method="GET", url=URL, access_token=TOKEN, clock=clock, **options)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _with_header(proof: str, header: dict[str, Any]) -> str:
    """``proof`` with its header segment replaced, payload and signature kept."""
    _, payload, signature = proof.split(".")
    return f"{_b64(header)}.{payload}.{signature}"


def _header(proof: str) -> dict[str, Any]:
    segment = proof.split(".", maxsplit=1)[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * 3))
    return decoded


def _verify(verifier: DPoPVerifier, proof: str, **options: Any) -> dpop.DPoPProof:
    return verifier.verify(proof, method="GET", url=URL, access_token=TOKEN, **options)


# -- the prepared headers ----------------------------------------------------------------------


def test_a_header_is_prepared_once_and_reused(clock: FrozenClock) -> None:
    key = jwtkit.Key.generate("ES256")
    verifier = DPoPVerifier(clock=clock)
    first = _verify(verifier, _proof(key, clock), jkt=key.thumbprint())
    second = _verify(verifier, _proof(key, clock), jkt=key.thumbprint())
    assert len(verifier._prepared) == 1
    assert first.key is second.key  # the one key built from the jwk, kept
    assert second.key == key.public_key()
    assert second.jkt == key.thumbprint()


def test_the_memo_is_bounded_and_drops_the_oldest(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dpop, "_PREPARED_HEADERS", 3)
    verifier = DPoPVerifier(clock=clock)
    keys = [jwtkit.Key.generate("ES256") for _ in range(5)]
    proofs = [_proof(key, clock) for key in keys]
    for proof in proofs:
        _verify(verifier, proof)
    assert len(verifier._prepared) == 3
    segments = [proof.split(".")[0] for proof in proofs]
    kept = [verifier._prepared.get(s) is not None for s in segments]
    assert kept == [False, False, True, True, True]
    # A key dropped from the memo is prepared anew, and still verifies.
    assert _verify(verifier, _proof(keys[0], clock)).jkt == keys[0].thumbprint()
    assert len(verifier._prepared) == 3


def test_keys_with_the_same_kid_never_share_an_entry(clock: FrozenClock) -> None:
    verifier = DPoPVerifier(clock=clock)
    one = jwtkit.Key.generate("ES256", kid="client-key")
    other = jwtkit.Key.generate("ES256", kid="client-key")
    checked_one = _verify(verifier, _proof(one, clock), jkt=one.thumbprint())
    checked_other = _verify(verifier, _proof(other, clock), jkt=other.thumbprint())
    assert len(verifier._prepared) == 2
    for checked, key in ((checked_one, one), (checked_other, other)):
        public = key.public_key().to_jwk()
        assert public.pop("kid") == "client-key"
        assert checked.key.to_jwk() == public  # the kid is a hint, left out of the key
    assert checked_one.jkt != checked_other.jkt
    # Each proof still needs its own key's signature and binding.
    with pytest.raises(InvalidDPoPProof, match=r"cnf\.jkt"):
        _verify(verifier, _proof(other, clock), jkt=one.thumbprint())


def test_a_tampered_jwk_is_not_served_from_the_memo(clock: FrozenClock) -> None:
    victim = jwtkit.Key.generate("ES256")
    attacker = jwtkit.Key.generate("ES256")
    verifier = DPoPVerifier(clock=clock)
    genuine = _proof(victim, clock)
    _verify(verifier, genuine)
    # The victim's header with one coordinate changed, and with the whole jwk swapped: other
    # segments, so each is checked anew, and the victim's signature does not verify with them.
    header = _header(genuine)
    for jwk in (
        {**header["jwk"], "x": attacker.public_key().to_jwk()["x"]},
        attacker.public_key().to_jwk(),
    ):
        tampered = _with_header(_proof(victim, clock), {**header, "jwk": jwk})
        with pytest.raises(InvalidDPoPProof):
            _verify(verifier, tampered)
    assert len(verifier._prepared) == 1


def test_the_same_jwk_written_otherwise_is_its_own_entry(clock: FrozenClock) -> None:
    """Segments that decode alike (here: the members in another order) are not merged."""
    key = jwtkit.Key.generate("ES256")
    verifier = DPoPVerifier(clock=clock)
    jwk = key.public_key().to_jwk()
    claims = {"jti": "j-1", "htm": "GET", "htu": URL, "iat": NOW}
    first = jws.sign(json.dumps(claims).encode(), key, "ES256", {"typ": DPOP_TYP, "jwk": jwk})
    reordered = dict(reversed(list(jwk.items())))
    claims["jti"] = "j-2"
    second = jws.sign(
        json.dumps(claims).encode(), key, "ES256", {"jwk": reordered, "typ": DPOP_TYP}
    )
    assert first.split(".")[0] != second.split(".")[0]
    assert verifier.verify(first, method="GET", url=URL).jkt == key.thumbprint()
    assert verifier.verify(second, method="GET", url=URL).jkt == key.thumbprint()
    assert len(verifier._prepared) == 2


def test_a_bad_signature_stores_nothing(clock: FrozenClock) -> None:
    """A forged proof (the victim's header, another key's signature) is refused and leaves
    no entry; the victim's genuine proofs verify afterwards."""
    victim = jwtkit.Key.generate("ES256")
    attacker = jwtkit.Key.generate("ES256")
    verifier = DPoPVerifier(clock=clock)
    genuine = _proof(victim, clock)
    signature = _proof(attacker, clock, jti="x").split(".")[2]
    header, payload, _ = _proof(victim, clock, jti="x").split(".")
    with pytest.raises(InvalidDPoPProof, match="signature"):
        _verify(verifier, f"{header}.{payload}.{signature}")
    assert len(verifier._prepared) == 0
    assert _verify(verifier, genuine).jkt == victim.thumbprint()
    # Once prepared, a bad signature on the same header is still refused.
    with pytest.raises(InvalidDPoPProof, match="signature"):
        _verify(verifier, f"{header}.{payload}.{signature}")
    with pytest.raises(InvalidDPoPProof, match="signature"):
        _verify(verifier, f"{header}.{payload}.")
    assert len(verifier._prepared) == 1


@pytest.mark.parametrize(
    ("options", "request_options", "message"),
    [
        ({}, {"method": "POST"}, "'htm'"),
        ({}, {"url": "https://api.example/other"}, "'htu'"),
        ({}, {"access_token": "another-token"}, "'ath'"),
        ({"clock": FrozenClock(NOW - 3600)}, {}, "'iat'"),
        ({}, {"jkt": "another-thumbprint"}, r"cnf\.jkt"),
        ({"jti": "seen"}, {}, "already used"),
    ],
)
def test_every_later_check_runs_on_a_memo_hit(
    clock: FrozenClock, options: dict[str, Any], request_options: dict[str, Any], message: str
) -> None:
    key = jwtkit.Key.generate("ES256")
    verifier = DPoPVerifier(clock=clock)
    _verify(verifier, _proof(key, clock, jti="seen"))
    assert len(verifier._prepared) == 1
    proof = _proof(key, options.pop("clock", clock), **options)
    arguments = {"method": "GET", "url": URL, "access_token": TOKEN, **request_options}
    with pytest.raises(InvalidDPoPProof, match=message):
        verifier.verify(proof, **arguments)


def test_a_malformed_payload_is_refused_on_a_memo_hit(clock: FrozenClock) -> None:
    key = jwtkit.Key.generate("ES256")
    verifier = DPoPVerifier(clock=clock)
    header, _, signature = _proof(key, clock).split(".")
    _verify(verifier, _proof(key, clock))
    with pytest.raises(InvalidDPoPProof, match="payload must be base64url"):
        _verify(verifier, f"{header}.not+base64.{signature}")
    with pytest.raises(InvalidDPoPProof, match="payload"):
        _verify(verifier, f"{header}.A.{signature}")


def test_each_verifier_has_its_own_memo(clock: FrozenClock) -> None:
    """An entry made under one verifier's settings never serves another's."""
    key = jwtkit.Key.generate("ES256")
    lenient = DPoPVerifier(clock=clock)
    strict = DPoPVerifier(algorithms=["EdDSA"], clock=clock)
    _verify(lenient, _proof(key, clock))
    with pytest.raises(InvalidDPoPProof, match="not accepted"):
        _verify(strict, _proof(key, clock))
    assert len(strict._prepared) == 0


def test_the_result_is_the_callers_own(clock: FrozenClock) -> None:
    key = jwtkit.Key.generate("ES256")
    verifier = DPoPVerifier(clock=clock)
    first = _verify(verifier, _proof(key, clock))
    first.header["jwk"]["x"] = "changed by the caller"
    second = _verify(verifier, _proof(key, clock))
    assert second.header["jwk"] == key.public_key().to_jwk()
    assert second.header is not first.header


def test_a_key_that_does_not_fit_the_alg_is_refused_and_not_stored(clock: FrozenClock) -> None:
    key = jwtkit.Key.generate("ES256")
    verifier = DPoPVerifier(clock=clock)
    proof = _proof(key, clock)
    header = _header(proof)
    restricted = _with_header(proof, {**header, "jwk": {**header["jwk"], "alg": "ES384"}})
    named = _with_header(proof, {**header, "kid": "k", "jwk": {**header["jwk"], "use": "enc"}})
    with pytest.raises(InvalidDPoPProof, match="ES384"):
        _verify(verifier, restricted)
    with pytest.raises(InvalidDPoPProof, match="kid"):
        _verify(verifier, named)
    assert len(verifier._prepared) == 0


def test_threads_share_the_memo(clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads verifying proofs of more keys than the memo holds: every proof verifies with its
    own key, and the memo stays within its bound."""
    monkeypatch.setattr(dpop, "_PREPARED_HEADERS", 2)
    verifier = DPoPVerifier(clock=clock, replay_cache=None)
    keys = [jwtkit.Key.generate(alg) for alg in ("ES256", "EdDSA", "ES256", "EdDSA", "ES384")]
    proofs = [(_proof(key, clock), key.thumbprint()) for key in keys]
    failures: list[BaseException] = []
    mismatches: list[str] = []
    start = threading.Barrier(4)

    def work(offset: int) -> None:
        start.wait()
        try:
            for round_ in range(40):
                proof, jkt = proofs[(offset + round_) % len(proofs)]
                if _verify(verifier, proof, jkt=jkt).jkt != jkt:
                    mismatches.append(jkt)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert mismatches == []
    assert 1 <= len(verifier._prepared) <= 2


# -- the normalized URLs ----------------------------------------------------------------------


def test_urls_are_normalized_once(urls: SharedMemo[str], clock: FrozenClock) -> None:
    key = jwtkit.Key.generate("ES256")
    verifier = DPoPVerifier(clock=clock)
    request = "HTTPS://API.example:443/items?page=2"
    verifier.verify(_proof(key, clock), method="GET", url=request, access_token=TOKEN)
    assert urls.get(request) == URL
    assert urls.get(URL) == URL  # the proof's htu
    assert len(urls) == 2


def test_the_url_memo_is_bounded(urls: SharedMemo[str]) -> None:
    for n in range(10):
        assert dpop._memo_htu(f"https://api.example/{n}") == f"https://api.example/{n}"
    assert len(urls) == 4
    assert urls.get("https://api.example/9") == "https://api.example/9"
    assert urls.get("https://api.example/0") is None


def test_long_urls_are_not_remembered(urls: SharedMemo[str]) -> None:
    long_url = "https://api.example/" + "a" * dpop._MEMO_URL_LENGTH
    assert dpop._memo_htu(long_url) == long_url
    assert len(urls) == 0


def test_refused_urls_are_not_remembered(urls: SharedMemo[str]) -> None:
    for _ in range(2):
        with pytest.raises(UsageError):
            dpop._memo_htu("ftp://api.example/items")
    assert len(urls) == 0


def test_str_subclasses_are_not_remembered(urls: SharedMemo[str]) -> None:
    class Text(str):
        def __hash__(self) -> int:
            return hash(URL)

        def __eq__(self, other: object) -> bool:
            return True

    dpop._memo_htu(URL)
    assert dpop._memo_htu(Text("https://other.example/x")) == "https://other.example/x"
    assert len(urls) == 1


def test_the_url_memo_gives_what_normalize_htu_gives(urls: SharedMemo[str]) -> None:
    for url in ("https://API.example/a/./b/../c", "http://h:80/%7euser", "https://h/caf\u00e9"):
        assert dpop._memo_htu(url) == normalize_htu(url)
        assert dpop._memo_htu(url) == normalize_htu(url)  # from the memo


def test_threads_share_the_url_memo(urls: SharedMemo[str]) -> None:
    failures: list[str] = []

    def work(offset: int) -> None:
        for n in range(200):
            url = f"https://API.example/{(offset + n) % 9}/."
            if dpop._memo_htu(url) != normalize_htu(url):
                failures.append(url)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(urls) <= 4
