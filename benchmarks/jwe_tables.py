"""JWE decryption: jwtkit against joserfc, jwcrypto and the bare ``cryptography`` calls.

The four cases of issue 6, each on a 1 KiB plaintext: ``dir`` + ``A256GCM``,
``RSA-OAEP-256`` + ``A256GCM`` (RSA-2048), ``ECDH-ES+A256KW`` + ``A256GCM`` (P-256) and
``A256KW`` + ``A256CBC-HS512``. Every implementation decrypts the same compact token (made by
jwtkit) in this one process. Before anything is timed, each must return the plaintext, reject a
token whose ciphertext was tampered with, and not warn: none is timed doing less work.

Rows of each table:

* ``jwtkit Decrypter.decrypt``: a :class:`jwtkit.jwe.Decrypter` built once;
* ``jwtkit.jwe.decrypt (one-shot)``: the function, with its arguments written at each call;
* ``joserfc jwe.decrypt_compact``: the key imported and the ``JWERegistry`` built once;
* ``jwcrypto JWE.deserialize``: the key imported once, ``JWE(algs=[alg, enc])`` per token;
* ``cryptography (bare)``: the primitive calls alone, on inputs decoded outside the timed loop
  (see :data:`BARE_CALLS`); per-key objects (the RSA key, the OAEP padding) are made once,
  per-token ones (the AES-GCM object of a fresh CEK, the ``epk`` public key) in the loop;
* ``floor: base64url + bare``: the bare calls plus the standard library's decoding of what
  differs per token (the four segments after the header; for ECDH-ES also the header's JSON
  and ``epk``), for reference (no target): the least work any decryption of the token string
  has to do in CPython.

Usage::

    python benchmarks/jwe_tables.py            # full run (about a minute), Markdown on stdout
    python benchmarks/jwe_tables.py --quick    # short run, noisier numbers
    python benchmarks/jwe_tables.py --steps    # also: where jwtkit's time goes, step by step

Method (as ``compare.py``): each row gets an iteration count that makes one batch last about
0.2 s (0.05 s with ``--quick``); the batches of one table are interleaved (A B C ... A B C ...)
7 times (3 with ``--quick``), and the best batch gives the time per operation and every ratio.
``jwe_tables(quick)`` returns the Markdown; ``benchmarks/compare.py`` includes it.
"""

from __future__ import annotations

import argparse
import binascii
import gc
import hmac
import json
import os
import platform
import statistics
import sys
import timeit
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, keywrap
from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

import jwtkit
from _timing import batch, calibrate
from jwtkit import jwe
from jwtkit.errors import DecryptionError
from jwtkit.jwk import ECKey, Key, OctKey, RSAKey

try:
    from joserfc import jwe as joserfc_jwe
    from joserfc.jwk import ECKey as JoserfcECKey
    from joserfc.jwk import OctKey as JoserfcOctKey
    from joserfc.jwk import RSAKey as JoserfcRSAKey
    from jwcrypto import jwe as jwcrypto_jwe
    from jwcrypto import jwk as jwcrypto_jwk
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise SystemExit(
        f"benchmarks/jwe_tables.py needs the peer libraries ({exc.name} is missing): "
        "make bench (installs the bench dependency group from uv.lock)"
    ) from None

Call = Callable[[Any], Any]

#: 1 KiB of plaintext: every byte value, four times.
PLAINTEXT = bytes(range(256)) * 4

DECRYPTER = "jwtkit Decrypter.decrypt"
ONESHOT = "jwtkit.jwe.decrypt (one-shot)"
JOSERFC = "joserfc jwe.decrypt_compact"
JWCRYPTO = "jwcrypto JWE.deserialize"
BARE = "cryptography (bare)"
FLOOR = "floor: base64url + bare"
JWTKIT_ROWS = (DECRYPTER, ONESHOT)

#: What the bare row of each case calls per token (inputs decoded beforehand).
BARE_CALLS = {
    "dir": "AESGCM(cek).decrypt(iv, ciphertext + tag, aad)",
    "RSA-OAEP-256": "the OAEP (SHA-256) decryption of the CEK, then AESGCM(cek).decrypt",
    "ECDH-ES+A256KW": (
        "EllipticCurvePublicKey.from_encoded_point(epk), ECDH exchange, ConcatKDFHash, "
        "aes_key_unwrap, then AESGCM(cek).decrypt"
    ),
    "A256KW": (
        "aes_key_unwrap, HMAC-SHA-512 over aad|iv|ciphertext|AL and compare_digest, AES-CBC "
        "decryption, PKCS#7 unpadding"
    ),
}

#: Goals of issue 6, for both jwtkit rows: speed-ups over the peers, overhead over bare.
SPEEDUP_GOALS = ((JOSERFC, 1.5), (JWCRYPTO, 2.0))
OVERHEAD_GOAL = 1.15


# --------------------------------------------------------------------------------------------
# the cases


@dataclass(frozen=True)
class Setup:
    """One (alg, enc) case: the recipient's jwtkit key, the token, and its decoded parts."""

    alg: str
    enc: str
    key: Key
    token: str
    description: str

    @property
    def title(self) -> str:
        return f"JWE decrypt {self.alg} + {self.enc} ({self.description}, 1 KiB plaintext)"

    @property
    def parts(self) -> list[str]:
        return self.token.split(".")


def make_setups() -> list[Setup]:
    rsa_key = RSAKey(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    ec_key = ECKey(ec.generate_private_key(ec.SECP256R1()))
    cases: list[tuple[str, str, Key, str]] = [
        ("dir", "A256GCM", OctKey(os.urandom(32)), "256-bit shared key"),
        ("RSA-OAEP-256", "A256GCM", rsa_key, "RSA-2048"),
        ("ECDH-ES+A256KW", "A256GCM", ec_key, "P-256"),
        ("A256KW", "A256CBC-HS512", OctKey(os.urandom(32)), "256-bit key-encryption key"),
    ]
    setups = []
    for alg, enc, key, description in cases:
        recipient = key if isinstance(key, OctKey) else key.public_key()
        token = jwe.encrypt(PLAINTEXT, recipient, algorithm=alg, encryption=enc)
        setups.append(Setup(alg, enc, key, token, description))
    return setups


def tampered(token: str) -> str:
    """The token with one ciphertext character changed (still canonical base64url)."""
    parts = token.split(".")
    ciphertext = parts[3]
    middle = len(ciphertext) // 2
    swapped = "B" if ciphertext[middle] != "B" else "C"
    parts[3] = ciphertext[:middle] + swapped + ciphertext[middle + 1 :]
    return ".".join(parts)


# --------------------------------------------------------------------------------------------
# the implementations: each is a callable taking the token


def jwtkit_decrypter(setup: Setup) -> Call:
    decrypter = jwe.Decrypter(setup.key, algorithms=[setup.alg], encryptions=[setup.enc])
    decrypt = decrypter.decrypt

    def run(token: str) -> bytes:
        return decrypt(token).plaintext

    return run


def jwtkit_oneshot(setup: Setup) -> Call:
    key, alg, enc = setup.key, setup.alg, setup.enc
    decrypt = jwe.decrypt

    def run(token: str) -> bytes:
        # The allow-lists are written at the call, as application code does.
        return decrypt(token, key, algorithms=[alg], encryptions=[enc]).plaintext

    return run


def joserfc_decrypter(setup: Setup) -> Call:
    jwk = setup.key.to_jwk(private=True)
    key: Any
    if jwk["kty"] == "oct":
        key = JoserfcOctKey.import_key(jwk)
    elif jwk["kty"] == "RSA":
        key = JoserfcRSAKey.import_key(jwk)
    else:
        key = JoserfcECKey.import_key(jwk)
    registry = joserfc_jwe.JWERegistry(algorithms=[setup.alg, setup.enc])
    decrypt = joserfc_jwe.decrypt_compact

    def run(token: str) -> bytes:
        result: Any = decrypt(token, key, registry=registry)
        plaintext: bytes = result.plaintext
        return plaintext

    return run


def jwcrypto_decrypter(setup: Setup) -> Call:
    key = jwcrypto_jwk.JWK(**setup.key.to_jwk(private=True))
    names = [setup.alg, setup.enc]
    make = jwcrypto_jwe.JWE

    def run(token: str) -> bytes:
        received = make(algs=names)
        received.deserialize(token, key=key)
        plaintext: bytes = received.payload
        return plaintext

    return run


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _b64decode(segment: str) -> bytes:
    """Plain (not strict) base64url decoding with the standard library: the floor."""
    data = segment.encode("ascii").translate(_FROM_URLSAFE)
    return binascii.a2b_base64(data + b"=" * (-len(data) % 4))


@dataclass(frozen=True)
class Decoded:
    """A token's parts, decoded: what the bare calls start from."""

    header: dict[str, Any]
    encrypted_key: bytes
    iv: bytes
    ciphertext: bytes
    tag: bytes
    aad: bytes
    #: ECDH-ES: the uncompressed point (SEC 1 §2.3.3) of the header's ``epk``.
    epk_point: bytes = b""


def _epk_point(header: dict[str, Any]) -> bytes:
    epk = header.get("epk")
    if epk is None:
        return b""
    return b"\x04" + _b64decode(epk["x"]) + _b64decode(epk["y"])


def decode_token(token: str, header: dict[str, Any] | None = None) -> Decoded:
    """The parts of ``token``, decoded (``header``: the header already known, as a cache
    of protected headers knows it)."""
    header_segment, key_segment, iv_segment, ct_segment, tag_segment = token.split(".")
    if header is None:
        header = json.loads(_b64decode(header_segment))
    return Decoded(
        header,
        _b64decode(key_segment),
        _b64decode(iv_segment),
        _b64decode(ct_segment),
        _b64decode(tag_segment),
        header_segment.encode("ascii"),
        _epk_point(header),
    )


def _other_info(alg: str, key_bits: int) -> bytes:
    """Concat KDF OtherInfo of RFC 7518 §4.6.2, with empty apu/apv."""
    algorithm_id = alg.encode("ascii")
    return (
        len(algorithm_id).to_bytes(4, "big")
        + algorithm_id
        + bytes(8)  # PartyUInfo and PartyVInfo: zero lengths
        + key_bits.to_bytes(4, "big")
    )


def bare_call(setup: Setup) -> Callable[[Decoded], bytes]:
    """The ``cryptography`` calls of one decryption, on decoded inputs (see BARE_CALLS)."""
    key = setup.key
    if setup.alg == "dir":
        assert isinstance(key, OctKey)
        cek = key.secret

        def bare_dir(d: Decoded) -> bytes:
            return AESGCM(cek).decrypt(d.iv, d.ciphertext + d.tag, d.aad)

        return bare_dir
    if setup.alg == "RSA-OAEP-256":
        assert isinstance(key, RSAKey)
        private = key.crypto_private_key
        assert isinstance(private, rsa.RSAPrivateKey)
        sha256 = hashes.SHA256()
        oaep = padding.OAEP(mgf=padding.MGF1(sha256), algorithm=sha256, label=None)

        def bare_rsa(d: Decoded) -> bytes:
            cek = private.decrypt(d.encrypted_key, oaep)
            return AESGCM(cek).decrypt(d.iv, d.ciphertext + d.tag, d.aad)

        return bare_rsa
    if setup.alg == "ECDH-ES+A256KW":
        assert isinstance(key, ECKey)
        ec_private = key.crypto_private_key
        assert ec_private is not None
        other_info = _other_info(setup.alg, 256)
        curve = ec.SECP256R1()
        ecdh = ec.ECDH()

        def bare_ecdh(d: Decoded) -> bytes:
            public = ec.EllipticCurvePublicKey.from_encoded_point(curve, d.epk_point)
            z = ec_private.exchange(ecdh, public)
            kek = ConcatKDFHash(hashes.SHA256(), 32, other_info).derive(z)
            cek = keywrap.aes_key_unwrap(kek, d.encrypted_key)
            return AESGCM(cek).decrypt(d.iv, d.ciphertext + d.tag, d.aad)

        return bare_ecdh
    assert setup.alg == "A256KW"
    assert isinstance(key, OctKey)
    kek = key.secret

    def bare_kw(d: Decoded) -> bytes:
        cek = keywrap.aes_key_unwrap(kek, d.encrypted_key)
        mac = hmac.new(cek[:32], d.aad, "sha512")
        mac.update(d.iv)
        mac.update(d.ciphertext)
        mac.update((len(d.aad) * 8).to_bytes(8, "big"))
        if not hmac.compare_digest(mac.digest()[:32], d.tag):
            raise InvalidTag
        decryptor = Cipher(algorithms.AES(cek[32:]), modes.CBC(d.iv)).decryptor()
        padded = decryptor.update(d.ciphertext) + decryptor.finalize()
        unpadder = symmetric_padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()

    return bare_kw


def floor_call(setup: Setup) -> Call:
    """The standard library's decoding of what differs per token, then the bare calls.

    That is the four segments after the header, and for ECDH-ES the header itself (its JSON
    and the ``epk`` coordinates), which is new in every message; other headers repeat, so a
    decryptor can keep them decoded.
    """
    bare = bare_call(setup)
    known = None if setup.alg.startswith("ECDH-ES") else decode_token(setup.token).header

    def run(token: str) -> bytes:
        return bare(decode_token(token, known))

    return run


# --------------------------------------------------------------------------------------------
# checks before timing


def _raises(call: Call, arg: object) -> Exception | None:
    try:
        call(arg)
    except Exception as exc:
        return exc
    return None


def check(name: str, call: Call, good: object, bad: object, *, jwtkit_row: bool) -> None:
    """Fail unless ``call`` returns the plaintext for ``good`` (silently) and rejects ``bad``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plaintext = call(good)
    if caught:
        raise SystemExit(f"{name}: warns while decrypting ({caught[0].message}); fix its setup")
    if plaintext != PLAINTEXT:
        raise SystemExit(f"{name}: returned the wrong plaintext")
    error = _raises(call, bad)
    if error is None:
        raise SystemExit(f"{name}: accepted a tampered token; it would be timed doing less work")
    if jwtkit_row and not isinstance(error, DecryptionError):
        raise SystemExit(f"{name}: a tampered token raised {error!r}, not DecryptionError")


# --------------------------------------------------------------------------------------------
# timing


@dataclass
class Row:
    """One implementation in one table: ``call(arg)`` is one decryption."""

    name: str
    call: Call
    arg: object
    iterations: int = 0
    seconds: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class Table:
    setup: Setup
    rows: list[Row]

    def row(self, name: str) -> Row:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)


def build_table(setup: Setup) -> Table:
    """Every implementation of one case, checked (plaintext, tampered token, no warnings)."""
    bad = tampered(setup.token)
    decoded, decoded_bad = decode_token(setup.token), decode_token(bad)
    rows = [
        Row(DECRYPTER, jwtkit_decrypter(setup), setup.token),
        Row(ONESHOT, jwtkit_oneshot(setup), setup.token),
        Row(JOSERFC, joserfc_decrypter(setup), setup.token),
        Row(JWCRYPTO, jwcrypto_decrypter(setup), setup.token),
        Row(BARE, bare_call(setup), decoded),
        Row(FLOOR, floor_call(setup), setup.token),
    ]
    for row in rows:
        bad_arg = decoded_bad if row.name == BARE else bad
        check(row.name, row.call, row.arg, bad_arg, jwtkit_row=row.name in JWTKIT_ROWS)
    return Table(setup, rows)


def measure(table: Table, repeats: int, target: float) -> None:
    """Calibrate every row, then time interleaved batches (A B C, A B C, ...)."""
    for row in table.rows:
        row.iterations = calibrate(row.call, row.arg, target)
    for _ in range(repeats):
        for row in table.rows:
            gc.collect()
            elapsed = batch(row.call, row.arg, row.iterations)
            row.seconds.append(elapsed / row.iterations)


# --------------------------------------------------------------------------------------------
# report


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.2f}"


def render_table(table: Table) -> list[str]:
    bare = table.row(BARE).best
    out = [
        f"### {table.setup.title}",
        "",
        "| implementation | ops/s | us/op (best) | us/op (median) | time vs bare |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in table.rows:
        out.append(
            f"| {row.name} | {1 / row.best:,.0f} | {_us(row.best)} | {_us(row.median)} | "
            f"{row.best / bare:.2f}x |"
        )
    out += ["", f"Bare: {BARE_CALLS[table.setup.alg]}.", ""]
    return out


def targets(tables: Sequence[Table]) -> list[tuple[str, str, str, bool]]:
    """``(label, measured, goal, passed)`` for every goal of issue 6."""
    out = []
    for table in tables:
        case = f"{table.setup.alg} + {table.setup.enc}"
        bare = table.row(BARE).best
        for mine in JWTKIT_ROWS:
            time = table.row(mine).best
            for peer, goal in SPEEDUP_GOALS:
                speedup = table.row(peer).best / time
                out.append(
                    (
                        f"{case}: {mine} vs {peer}",
                        f"{speedup:.2f}x faster",
                        f">= {goal:g}x faster",
                        speedup >= goal,
                    )
                )
            overhead = time / bare
            out.append(
                (
                    f"{case}: {mine} time / bare time",
                    f"{overhead:.3f}x",
                    f"<= {OVERHEAD_GOAL:.2f}x",
                    overhead <= OVERHEAD_GOAL,
                )
            )
    return out


def render(tables: Sequence[Table], repeats: int, target: float) -> str:
    out = [
        "## JWE decryption",
        "",
        f"Method: best of {repeats} interleaved batches of about {target:g} s each; ratios use "
        "the best batch. The floor row (no target) adds to the bare calls the standard "
        "library's decoding of what differs per token (base64url segments; for ECDH-ES the "
        "header JSON and epk).",
        "",
    ]
    for table in tables:
        out += render_table(table)
    out += [
        "### JWE targets",
        "",
        "| target | measured | goal | result |",
        "|---|---:|---:|:---:|",
    ]
    for label, measured, goal, passed in targets(tables):
        out.append(f"| {label} | {measured} | {goal} | {'PASS' if passed else 'MISS'} |")
    out.append("")
    return "\n".join(out)


def run_tables(quick: bool) -> tuple[list[Table], int, float]:
    """Build, check and time every table."""
    repeats, target = (3, 0.05) if quick else (7, 0.2)
    tables = [build_table(setup) for setup in make_setups()]
    for table in tables:
        print(f"timing: {table.setup.title} ...", file=sys.stderr, flush=True)
        measure(table, repeats, target)
    return tables, repeats, target


def jwe_tables(quick: bool) -> str:
    """The JWE decryption tables and targets as Markdown (the entry point for compare.py)."""
    tables, repeats, target = run_tables(quick)
    return render(tables, repeats, target)


# --------------------------------------------------------------------------------------------
# where jwtkit's time goes


def _best(call: Callable[[], object], quick: bool) -> float:
    number = 2_000 if quick else 10_000
    return min(timeit.repeat(call, number=number, repeat=5 if quick else 9)) / number


def steps(quick: bool) -> str:
    """The parts of ``Decrypter.decrypt`` for each case, each timed alone (best of N).

    They do not add up exactly to the whole call; the rest is the Python around them.
    """
    from jwtkit._codec import b64url_decode_fast, json_loads_object

    def decode_segments(parts: list[str]) -> list[bytes]:
        return [b64url_decode_fast(segment) for segment in parts[1:]]

    out = ["## Where jwtkit's JWE decryption time goes", ""]
    for setup in make_setups():
        decrypter = jwe.Decrypter(setup.key, algorithms=[setup.alg], encryptions=[setup.enc])
        token, parts = setup.token, setup.parts
        result = decrypter.decrypt(token)
        decoded = decode_token(token)
        rows: list[tuple[str, Callable[[], object]]] = [
            ("Decrypter.decrypt, the whole call", partial(decrypter.decrypt, token)),
            ("bare cryptography calls", partial(bare_call(setup), decoded)),
            ("floor: base64url + bare", partial(floor_call(setup), token)),
            ("split the token at its dots", partial(token.split, ".")),
            ("strict base64url decoding of the four segments", partial(decode_segments, parts)),
            ("  of which the ciphertext", partial(b64url_decode_fast, parts[3])),
            (
                "the result object (DecryptedJWE)",
                partial(
                    jwe.DecryptedJWE,
                    dict(result.header),
                    result.plaintext,
                    result.algorithm,
                    result.encryption,
                    result.key,
                ),
            ),
        ]
        if setup.alg.startswith("ECDH-ES"):
            point = decoded.epk_point
            rows += [
                (
                    "the header, new in every message: base64url + strict JSON",
                    partial(json_loads_object, b64url_decode_fast(parts[0]), "header"),
                ),
                (
                    "the epk public key (point validation)",
                    partial(ec.EllipticCurvePublicKey.from_encoded_point, ec.SECP256R1(), point),
                ),
            ]
        out += [f"### {setup.alg} + {setup.enc}", "", "| step | us |", "|---|---:|"]
        out += [f"| {label} | {_us(_best(call, quick))} |" for label, call in rows]
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------


def _versions() -> str:
    names = []
    for dist in ("jwtkit", "joserfc", "jwcrypto", "cryptography"):
        try:
            names.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            names.append(f"{dist} not installed")
    return ", ".join(names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run (noisier)")
    parser.add_argument(
        "--steps", action="store_true", help="also time the steps of jwtkit's decryption"
    )
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"- Python {platform.python_version()} on {platform.platform()}, "
        f"{os.cpu_count()} logical CPUs; {_versions()}\n"
        f"- Load average (1, 5, 15 min) at start: {load} (keep the machine otherwise idle)\n"
        f"- jwtkit module: {jwtkit.__file__}\n"
    )
    print(jwe_tables(args.quick))
    if args.steps:
        print(steps(args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
