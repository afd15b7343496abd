"""Key types JOSE does not use (DSA, finite-field DH, ML-KEM; ML-DSA where ``cryptography`` cannot
sign with it) are refused with ``InvalidKey`` from every entry point, on every supported
``cryptography`` release and under any warnings filter. Where ML-DSA works, its files are AKP keys
(``test_akp_keys.py``).

``cryptography`` 51 deprecates DSA and finite-field DH: loading such a key warns, and under an
``error`` filter (this suite's ``filterwarnings = error``, ``python -W error``) the warning is
raised from inside the loader. Either way the caller must get jwtkit's error. The key files in
``data/`` were made once (see ``data/README.md``), so these tests call no deprecated API.
"""

from __future__ import annotations

import base64
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from jwtkit._keys.mldsa_support import MLDSA_MODULE
from jwtkit.errors import InvalidKey, JWTError
from jwtkit.jwk import Key

DATA = Path(__file__).resolve().parent / "data"
ALL_PEM_FILES = sorted(path.name for path in DATA.glob("*.pem"))
#: The files of types jwtkit refuses on this ``cryptography`` release.
PEM_FILES = [
    name for name in ALL_PEM_FILES if MLDSA_MODULE is None or not name.startswith("ml-dsa-")
]
SSH_FILES = ["dsa-1024-public.ssh", "dsa-1024-private.openssh"]
FILTERS = ["error", "ignore"]


@pytest.fixture(params=FILTERS)
def warnings_filter(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test once with warnings raised as errors and once with them ignored."""
    with warnings.catch_warnings():
        warnings.simplefilter(request.param)
        yield request.param


def _der(pem: bytes) -> bytes:
    body = re.search(rb"-----BEGIN [A-Z ]+-----\n(.*?)\n-----END", pem, re.DOTALL)
    assert body is not None
    return base64.b64decode(body.group(1))


def test_the_data_files_are_all_there() -> None:
    assert len(ALL_PEM_FILES) == 9, ALL_PEM_FILES
    assert len(PEM_FILES) == (9 if MLDSA_MODULE is None else 7), PEM_FILES
    assert all((DATA / name).is_file() for name in SSH_FILES)


@pytest.mark.parametrize("name", PEM_FILES)
def test_pem_of_an_unsupported_type_is_invalid_key(name: str, warnings_filter: str) -> None:
    with pytest.raises(InvalidKey) as caught:
        Key.from_pem((DATA / name).read_bytes())
    assert "unsupported" in str(caught.value) or "not a valid" in str(caught.value)


@pytest.mark.parametrize("name", PEM_FILES)
def test_der_of_an_unsupported_type_is_invalid_key(name: str, warnings_filter: str) -> None:
    with pytest.raises(InvalidKey):
        Key.from_der(_der((DATA / name).read_bytes()))


@pytest.mark.parametrize("name", SSH_FILES)
def test_openssh_dsa_keys_are_invalid_key(name: str, warnings_filter: str) -> None:
    with pytest.raises(InvalidKey, match=r"unsupported|cannot read|not a valid"):
        Key.from_ssh((DATA / name).read_bytes())
    with pytest.raises(InvalidKey):
        Key.from_pem((DATA / name).read_bytes())


def _load_quietly(name: str) -> object:
    """The ``cryptography`` object for a data file, or None where this release cannot read it."""
    data = (DATA / name).read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if b"CERTIFICATE" in data:
                return x509.load_pem_x509_certificate(data)
            if b"PRIVATE" in data:
                return serialization.load_pem_private_key(data, None)
            return serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm):  # an older cryptography: an unknown type
            return None


@pytest.mark.parametrize("name", PEM_FILES)
def test_key_objects_of_an_unsupported_type_are_invalid_key(
    name: str, warnings_filter: str
) -> None:
    obj = _load_quietly(name)
    if obj is None:
        pytest.skip(f"this cryptography release cannot read {name}")
    with pytest.raises(InvalidKey, match="unsupported"):
        Key.from_cryptography(obj)


def test_a_dsa_certificate_in_x5c_is_invalid_key(warnings_filter: str) -> None:
    """The x5c leaf is compared with the JWK's key: a DSA leaf cannot match, and reading it
    under an error filter must not escape as a warning."""
    certificate = _der((DATA / "dsa-certificate.pem").read_bytes())
    jwk = Key.generate("ES256").public_key().to_jwk()
    jwk["x5c"] = [base64.b64encode(certificate).decode("ascii")]
    with pytest.raises(InvalidKey, match="x5c"):
        Key.from_jwk(jwk)


def test_the_error_names_the_type_and_is_a_jwt_error() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(JWTError) as caught:
            Key.from_pem((DATA / "dsa-private.pem").read_bytes())
    assert caught.value.code == "invalid_key"
    assert "DSA" in str(caught.value)
