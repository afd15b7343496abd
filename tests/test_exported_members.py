"""The public API, pinned: adding or removing a public name is a deliberate change here."""

from __future__ import annotations

import jwtkit
from jwtkit import dpop, errors, jwa, jwe, jwk, jws, jwt, oidc, sd_jwt, testing, x509

TOP_LEVEL = {
    "AKPKey",
    "AlgorithmNotAllowed",
    "AmbiguousKey",
    "AsyncKeyProvider",
    "KeyProvider", "ClaimError", "DPoPNonceRequired", "DecodeError", "DecodedJWT",
    "DecryptionError", "ECKey",
    "ExpiredSignatureError", "ExpiredToken", "ImmatureSignatureError", "InvalidAlgorithmError",
    "InvalidAudience", "InvalidAudienceError", "InvalidDPoPProof", "InvalidIssuer",
    "InvalidIssuerError", "InvalidKey", "InvalidKeyBinding", "InvalidKeyError", "InvalidNonce",
    "InvalidSDJWT", "InvalidSignature",
    "InvalidSignatureError", "InvalidSubject", "InvalidTokenError", "InvalidTokenHash",
    "InvalidType", "JWTError", "Key", "KeyNotFound", "KeySet", "MalformedToken", "MissingClaim",
    "MissingRequiredClaimError", "MissingSignature", "NotYetValid", "OKPKey", "OctKey",
    "PyJWTError", "RSAKey",
    "TokenTooLarge", "UnsupportedCritical", "UntrustedCertificate", "UsageError", "Verifier",
    "__version__", "decode", "decode_complete", "decode_unverified", "dpop", "encode", "errors",
    "jwa", "jwe", "jwk", "jws", "jwt", "oidc", "sd_jwt", "testing", "x509",
}  # fmt: skip

MODULES = {
    "jwk": (jwk, {"AKPKey", "ECKey", "Key", "KeySet", "OKPKey", "OctKey", "RSAKey", "SkippedKey"}),
    "jwa": (
        jwa,
        {
            "Algorithm",
            "CONTENT_ENCRYPTION_ALGORITHMS",
            "ContentEncryptionAlgorithm",
            "DEFAULT_REGISTRY",
            "InsecureAlgorithmWarning",
            "KEY_MANAGEMENT_ALGORITHMS",
            "KeyManagementAlgorithm",
            "NONE",
            "PBES2_HS256_A128KW",
            "PBES2_HS384_A192KW",
            "PBES2_HS512_A256KW",
            "RSA1_5",
            "Registry",
            "SIGNATURE_ALGORITHMS",
            "SignatureAlgorithm",
        },
    ),
    "jwe": (
        jwe,
        {
            "DEFAULT_MAX_DECOMPRESSED_SIZE",
            "DEFAULT_MAX_PBES2_COUNT",
            "DEFAULT_MAX_RECIPIENTS",
            "DecryptedJWE",
            "Decrypter",
            "Recipient",
            "decrypt",
            "decrypt_json",
            "encrypt",
            "encrypt_json",
        },
    ),
    "jws": (
        jws,
        {
            "SignaturePolicy",
            "Signer",
            "VerifiedJWS",
            "sign",
            "sign_json",
            "verify",
            "verify_json",
            "verify_json_all",
            "verify_json_policy",
        },
    ),
    "jwt": (
        jwt,
        {
            "DecodedJSONJWT",
            "DecodedJWT",
            "Verifier",
            "decode",
            "decode_complete",
            "decode_json",
            "decode_unverified",
            "encode",
            "encode_json",
            "normalize_typ",
        },
    ),
    "testing": (testing, {"FrozenClock"}),
    "oidc": (
        oidc,
        {"DEFAULT_ID_TOKEN_ALGORITHMS", "ID_TOKEN_CLAIMS", "IDTokenVerifier", "token_hash"},
    ),
    "x509": (x509, {"ChainPolicy", "X5CKeyProvider"}),
    "sd_jwt": (
        sd_jwt,
        {
            "DEFAULT_KB_ALGORITHMS",
            "DEFAULT_SD_ALG",
            "DEFAULT_TYP",
            "KB_JWT_TYP",
            "MAX_DISCLOSURES",
            "NOT_DISCLOSABLE",
            "SDJWT",
            "SDJWTVerifier",
            "SD_ALGORITHMS",
            "Disclosure",
            "VerifiedSDJWT",
            "issue",
            "key_binding_jwt",
        },
    ),
    "dpop": (
        dpop,
        {
            "DEFAULT_ALGORITHMS",
            "DPOP_TYP",
            "DPoPNonces",
            "DPoPProof",
            "DPoPVerifier",
            "MAX_PQ_PROOF_SIZE",
            "MAX_PROOF_SIZE",
            "MemoryReplayCache",
            "ReplayCache",
            "access_token_hash",
            "create_proof",
            "normalize_htu",
        },
    ),
}

ERROR_CODES = {
    "JWTError": "jwt_error",
    "UsageError": "usage_error",
    "MalformedToken": "malformed",
    "TokenTooLarge": "token_too_large",
    "UnsupportedCritical": "unsupported_critical",
    "AlgorithmNotAllowed": "algorithm_not_allowed",
    "InvalidKey": "invalid_key",
    "KeyNotFound": "key_not_found",
    "AmbiguousKey": "ambiguous_key",
    "InvalidSignature": "invalid_signature",
    "MissingSignature": "missing_signature",
    "DecryptionError": "decryption_failed",
    "ClaimError": "invalid_claim",
    "ExpiredToken": "expired",
    "NotYetValid": "not_yet_valid",
    "InvalidIssuer": "invalid_issuer",
    "InvalidAudience": "invalid_audience",
    "InvalidSubject": "invalid_subject",
    "MissingClaim": "missing_claim",
    "InvalidType": "invalid_type",
    "InvalidNonce": "invalid_nonce",
    "InvalidTokenHash": "invalid_token_hash",
    "UntrustedCertificate": "untrusted_certificate",
    "InvalidDPoPProof": "invalid_dpop_proof",
    "DPoPNonceRequired": "use_dpop_nonce",
    "InvalidSDJWT": "invalid_sd_jwt",
    "InvalidKeyBinding": "invalid_key_binding",
}


def test_top_level_exports_are_pinned() -> None:
    assert set(jwtkit.__all__) == TOP_LEVEL
    for name in jwtkit.__all__:
        assert hasattr(jwtkit, name), name


def test_module_exports_are_pinned() -> None:
    for label, (module, names) in MODULES.items():
        assert set(module.__all__) == names, label
        for name in names:
            assert hasattr(module, name), f"{label}.{name}"


def test_error_codes_are_stable_and_rooted() -> None:
    for name, code in ERROR_CODES.items():
        cls = getattr(errors, name)
        assert cls.code == code
        assert issubclass(cls, jwtkit.JWTError)
    codes = [getattr(errors, n).code for n in ERROR_CODES]
    assert len(codes) == len(set(codes))


def test_claim_errors_are_claim_errors() -> None:
    for name in ("ExpiredToken", "NotYetValid", "InvalidIssuer", "InvalidAudience",
                 "InvalidSubject", "MissingClaim", "InvalidType", "InvalidNonce",
                 "InvalidTokenHash"):  # fmt: skip
        assert issubclass(getattr(errors, name), errors.ClaimError)


def test_pyjwt_aliases_catch_the_same_failures() -> None:
    assert jwtkit.InvalidTokenError is jwtkit.JWTError
    assert jwtkit.ExpiredSignatureError is jwtkit.ExpiredToken
    assert issubclass(jwtkit.InvalidSignatureError, jwtkit.DecodeError)
    assert jwtkit.ImmatureSignatureError is jwtkit.NotYetValid


OPTIONAL_MODULES = {
    "jwtkit.remote": {
        "AsyncJWKSClient", "AsyncOIDCClient", "DiscoveryError", "JWKSClient", "JWKSError",
        "JWKSFetchError", "JWKSInvalid", "MissingExtra", "MultiIssuerVerifier", "OIDCClient",
        "TrustedIssuer", "UnsafeURL",
    },
    "jwtkit.pyjwt": {
        "DecodeError", "ExpiredSignatureError", "ImmatureSignatureError", "InvalidAlgorithmError",
        "InvalidAudienceError", "InvalidIssuedAtError", "InvalidIssuerError", "InvalidJTIError",
        "InvalidKeyError", "InvalidSignatureError", "InvalidSubjectError", "InvalidTokenError",
        "MissingCryptographyError", "MissingRequiredClaimError", "PyJWK", "PyJWKClient",
        "PyJWKClientConnectionError", "PyJWKClientError", "PyJWKError", "PyJWKSet",
        "PyJWKSetError", "PyJWTError", "algorithms", "decode", "decode_complete", "encode",
        "exceptions", "get_algorithm_by_name", "get_unverified_header",
    },
    "jwtkit.pyjwt.exceptions": {
        "DecodeError", "ExpiredSignatureError", "ImmatureSignatureError", "InvalidAlgorithmError",
        "InvalidAudienceError", "InvalidIssuedAtError", "InvalidIssuerError", "InvalidJTIError",
        "InvalidKeyError", "InvalidSignatureError", "InvalidSubjectError", "InvalidTokenError",
        "MissingCryptographyError", "MissingRequiredClaimError", "PyJWKClientConnectionError",
        "PyJWKClientError", "PyJWKError", "PyJWKSetError", "PyJWTError",
    },
    "jwtkit.pyjwt.algorithms": {
        "Algorithm", "ECAlgorithm", "HMACAlgorithm", "OKPAlgorithm", "RSAAlgorithm",
        "RSAPSSAlgorithm", "get_algorithm_by_name", "get_default_algorithms", "has_crypto",
    },
    "jwtkit.integrations": set(),
    "jwtkit.integrations.starlette": {
        "BearerError", "DPoPSettings", "JWTAuthBackend", "JWTAuthenticationError",
        "JWTMiddleware", "JWTUser",
        "ResourceMetadata", "error_response", "metadata_response", "metadata_route",
    },
    "jwtkit.integrations.fastapi": {
        "METADATA_ATTRIBUTE", "STATE_ATTRIBUTE", "BearerError", "BearerHTTPException",
        "DPoPSettings", "ResourceMetadata", "bearer_scheme", "configure", "metadata_router",
        "require_token",
    },
    "jwtkit.integrations.flask": {
        "EXTENSION_NAME", "METADATA_ENDPOINT", "BearerError", "DPoPSettings", "JWTKit",
        "ResourceMetadata",
        "ViewDecorator", "current_claims", "error_response", "init_app", "require_token",
    },
}  # fmt: skip


def test_optional_module_exports_are_pinned() -> None:
    import importlib

    for name, expected in OPTIONAL_MODULES.items():
        module = importlib.import_module(name)
        assert set(module.__all__) == expected, name
        for member in expected:
            assert hasattr(module, member), f"{name}.{member}"
