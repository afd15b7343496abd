"""Settings of the token service: precedence, conversion and every validation message."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path
from typing import Any

import pytest

from jwtkit.server._extras import MissingExtra, require
from jwtkit.server.config import (
    FIELD_NAMES,
    ConfigError,
    Settings,
    decode_key_encryption_key,
    env_var,
    load_settings,
)

KEK = secrets.token_urlsafe(32)


def _problem(**values: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        Settings(**values)
    assert len(caught.value.problems) == 1, caught.value.problems
    return str(caught.value)


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "jwtkit.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- defaults and properties -----------------------------------------------------------------


def test_default_state_is_in_one_git_ignored_folder() -> None:
    folders = {Path(Settings().database).parent, Path(Settings().key_file).parent}
    assert folders == {Path(".jwtkit")}
    gitignore = Path(__file__).parents[2] / ".gitignore"
    assert ".jwtkit/" in gitignore.read_text(encoding="utf-8").splitlines()


def test_defaults_match_the_documented_values() -> None:
    settings = load_settings(env={})
    assert settings == Settings()
    assert settings.issuer == "http://127.0.0.1:8000"
    # Development state lives in one git-ignored folder (.gitignore lists .jwtkit/).
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.database == ".jwtkit/jwtkit.db"
    assert settings.environment == "development"
    assert settings.audience == "jwtkit"
    assert settings.access_token_ttl == 900
    assert (settings.refresh_idle_ttl, settings.refresh_absolute_ttl) == (1209600, 2592000)
    assert settings.refresh_grace_period == 0
    assert settings.dpop_nonce is False
    assert settings.signing_algorithm == "ES256"
    assert settings.id_token_algorithms == ("RS256",)
    assert settings.key_encryption_key is None
    assert settings.key_file == ".jwtkit/keys.secret"
    assert settings.allow_registration is None
    assert settings.docs is None
    assert settings.password_grant is None
    assert settings.client_registration is None
    assert settings.client_registration_token is None
    assert settings.first_party_client_id == "first-party"
    assert settings.default_scope == "openid profile"
    assert (settings.argon2_time_cost, settings.argon2_memory_cost) == (3, 65536)
    assert settings.argon2_parallelism == 4
    assert settings.login_max_failures_per_user == 5
    assert settings.login_max_failures_per_ip == 20
    assert settings.login_failure_window == 900
    assert settings.max_body_bytes == 65536
    assert (settings.log_level, settings.workers) == ("info", 1)
    assert (settings.metrics, settings.metrics_token, settings.log_format) == (None, None, "text")


def test_every_field_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "server-configuration.md").read_text(
        encoding="utf-8"
    )
    for name in FIELD_NAMES:
        assert f"`{name}`" in doc, name
        assert f"`{env_var(name)}`" in doc, name


def test_registration_is_on_in_development_and_off_in_production_by_default() -> None:
    assert Settings().registration_enabled is True
    production = Settings(
        environment="production", issuer="https://id.example", key_encryption_key=KEK
    )
    assert production.registration_enabled is False
    assert production.is_production
    assert dataclasses.replace(production, allow_registration=True).registration_enabled is True
    assert Settings(allow_registration=False).registration_enabled is False


def test_password_grant_is_on_in_development_and_off_in_production_by_default(
    tmp_path: Path,
) -> None:
    # OAuth 2.1 drops the password grant; RFC 9700 §2.4: it MUST NOT be used. Legacy, kept on
    # for development (the README's curl walk-through), off in production unless asked for.
    assert Settings().password_grant_enabled is True
    assert Settings(password_grant=False).password_grant_enabled is False
    production = {
        "JWTKIT_ENVIRONMENT": "production",
        "JWTKIT_ISSUER": "https://id.example",
        "JWTKIT_KEY_ENCRYPTION_KEY": KEK,
    }
    assert load_settings(env=production).password_grant_enabled is False
    on = load_settings(env={**production, "JWTKIT_PASSWORD_GRANT": "on"})
    assert on.password_grant_enabled is True
    assert load_settings(env={**production, "JWTKIT_PASSWORD_GRANT": ""}).password_grant is None
    path = _write(tmp_path, "password_grant = true\n")
    assert load_settings(env=production, config_file=path).password_grant_enabled is True


def test_docs_are_on_in_development_and_off_in_production_by_default(tmp_path: Path) -> None:
    assert Settings().docs_enabled is True
    assert Settings(docs=False).docs_enabled is False
    production = {
        "JWTKIT_ENVIRONMENT": "production",
        "JWTKIT_ISSUER": "https://id.example",
        "JWTKIT_KEY_ENCRYPTION_KEY": KEK,
    }
    assert load_settings(env=production).docs_enabled is False
    assert load_settings(env={**production, "JWTKIT_DOCS": "on"}).docs_enabled is True
    assert load_settings(env={**production, "JWTKIT_DOCS": ""}).docs is None
    path = _write(tmp_path, "docs = true\n")
    assert load_settings(env=production, config_file=path).docs_enabled is True
    with pytest.raises(ConfigError, match=r"docs: expected true or false"):
        load_settings(env={"JWTKIT_DOCS": "maybe"})


def test_client_registration_is_open_in_development_and_off_in_production_by_default(
    tmp_path: Path,
) -> None:
    """RFC 7591 Dynamic Client Registration: unset is open in development, off in production
    (as the password grant); "token" needs the initial access token."""
    assert Settings().client_registration is None
    assert Settings().client_registration_mode == "open"
    assert Settings(client_registration="off").client_registration_mode == "off"
    production = {
        "JWTKIT_ENVIRONMENT": "production",
        "JWTKIT_ISSUER": "https://id.example",
        "JWTKIT_KEY_ENCRYPTION_KEY": KEK,
    }
    assert load_settings(env=production).client_registration_mode == "off"
    opened = load_settings(env={**production, "JWTKIT_CLIENT_REGISTRATION": "open"})
    assert opened.client_registration_mode == "open"
    assert (
        load_settings(env={**production, "JWTKIT_CLIENT_REGISTRATION": ""}).client_registration
        is None
    )
    token = secrets.token_urlsafe(32)
    protected = load_settings(
        env={
            **production,
            "JWTKIT_CLIENT_REGISTRATION": "token",
            "JWTKIT_CLIENT_REGISTRATION_TOKEN": token,
        }
    )
    assert protected.client_registration_mode == "token"
    assert protected.client_registration_token == token
    path = _write(
        tmp_path, f'client_registration = "token"\nclient_registration_token = "{token}"\n'
    )
    assert load_settings(env={}, config_file=path).client_registration_mode == "token"


def test_token_mode_needs_its_token() -> None:
    message = _problem(client_registration="token")
    assert message.startswith(
        "client_registration_token (JWTKIT_CLIENT_REGISTRATION_TOKEN): required when "
        "client_registration is 'token'"
    )
    assert "secrets.token_urlsafe(32)" in message


@pytest.mark.parametrize("mode", [None, "open", "off"])
def test_a_token_without_token_mode_is_refused(mode: str | None) -> None:
    """Else registration would be open (or off) while the operator believes it protected."""
    token = secrets.token_urlsafe(32)
    message = _problem(client_registration=mode, client_registration_token=token)
    assert message.startswith(
        "client_registration_token (JWTKIT_CLIENT_REGISTRATION_TOKEN): set, but "
        "client_registration is "
    )
    assert ("unset" if mode is None else repr(mode)) in message
    assert token not in message


def test_metrics_are_on_in_development_and_in_production_only_with_a_token_or_asked_for() -> None:
    production = {
        "JWTKIT_ENVIRONMENT": "production",
        "JWTKIT_ISSUER": "https://id.example",
        "JWTKIT_KEY_ENCRYPTION_KEY": KEK,
    }
    token = secrets.token_urlsafe(32)
    assert Settings().metrics_enabled is True
    assert Settings(metrics=False).metrics_enabled is False
    assert load_settings(env=production).metrics_enabled is False
    assert load_settings(env={**production, "JWTKIT_METRICS": "true"}).metrics_enabled is True
    with_token = load_settings(env={**production, "JWTKIT_METRICS_TOKEN": token})
    assert with_token.metrics_enabled is True
    assert token not in repr(with_token)
    assert load_settings(env={**production, "JWTKIT_METRICS_TOKEN": ""}).metrics_token is None


def test_a_metrics_token_with_metrics_off_is_refused() -> None:
    message = _problem(metrics=False, metrics_token=secrets.token_urlsafe(32))
    assert message.startswith(
        "metrics_token (JWTKIT_METRICS_TOKEN): set, but metrics is false: remove the token"
    )


def test_a_weak_metrics_token_is_refused_without_echo() -> None:
    message = _problem(metrics_token="guessable")
    assert message.startswith(
        "metrics_token (JWTKIT_METRICS_TOKEN): must be 32 to 1024 characters that can be sent "
        "as a Bearer token"
    )
    assert "guessable" not in message


def test_log_format_is_text_or_json_in_any_case() -> None:
    assert Settings(log_format="JSON").log_format == "json"
    assert _problem(log_format="xml") == (
        "log_format (JWTKIT_LOG_FORMAT): must be one of text, json, got 'xml'"
    )


@pytest.mark.parametrize(
    "token",
    [
        "x" * 31,
        "x" * 1025,
        "a b" + "x" * 40,
        "=" + "x" * 40,
        "x" * 40 + "\u00e9",
        'x"' * 20,
    ],
)
def test_weak_or_unsendable_registration_tokens_are_refused_without_echo(token: str) -> None:
    message = _problem(client_registration="token", client_registration_token=token)
    assert message.startswith(
        "client_registration_token (JWTKIT_CLIENT_REGISTRATION_TOKEN): must be 32 to 1024 "
        "characters that can be sent as a Bearer token"
    )
    assert token not in message


def test_the_shortest_registration_token_and_base64_padding_are_accepted() -> None:
    for token in ("x" * 32, "a-._~+/" * 5 + "=="):
        settings = Settings(client_registration="token", client_registration_token=token)
        assert settings.client_registration_token == token


def test_unknown_client_registration_mode() -> None:
    assert _problem(client_registration="closed").startswith(
        "client_registration (JWTKIT_CLIENT_REGISTRATION): must be one of off, open, token, "
        "got 'closed'"
    )


def test_the_registration_token_is_never_shown() -> None:
    token = secrets.token_urlsafe(32)
    settings = Settings(client_registration="token", client_registration_token=token)
    assert token not in repr(settings)
    with pytest.raises(ConfigError) as caught:
        load_settings(cli={"client_registration_token": 12345678}, env={})
    assert "12345678" not in str(caught.value)
    assert "<hidden>" in str(caught.value)


def test_repr_hides_the_key_encryption_key() -> None:
    assert KEK not in repr(Settings(key_encryption_key=KEK))


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]


def test_log_level_is_case_insensitive() -> None:
    assert Settings(log_level="DEBUG").log_level == "debug"


# -- precedence ------------------------------------------------------------------------------


def test_cli_beats_environment_beats_file_beats_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, 'port = 7000\naudience = "file"\nworkers = 3\nlog_level = "debug"\n')
    env = {"JWTKIT_PORT": "7100", "JWTKIT_AUDIENCE": "env", "JWTKIT_CONFIG": path}
    settings = load_settings(cli={"port": 7200, "log_level": None}, env=env)
    assert settings.port == 7200  # CLI
    assert settings.audience == "env"  # environment over file
    assert settings.workers == 3  # file over default
    assert settings.log_level == "debug"  # a CLI None means "not given"
    assert settings.host == "127.0.0.1"  # default


def test_config_file_argument_beats_jwtkit_config(tmp_path: Path) -> None:
    chosen = _write(tmp_path, "port = 7001\n")
    other = tmp_path / "other.toml"
    other.write_text("port = 7002\n", encoding="utf-8")
    settings = load_settings(env={"JWTKIT_CONFIG": str(other)}, config_file=chosen)
    assert settings.port == 7001


def test_empty_jwtkit_config_means_no_file() -> None:
    assert load_settings(env={"JWTKIT_CONFIG": ""}) == Settings()


def test_os_environ_is_the_default_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWTKIT_PORT", "8123")
    assert load_settings().port == 8123


def test_cli_accepts_dashed_names_and_strings() -> None:
    settings = load_settings(cli={"access-token-ttl": "600", "password_grant": "off"}, env={})
    assert settings.access_token_ttl == 600
    assert settings.password_grant is False


def test_non_jwtkit_environment_variables_are_ignored() -> None:
    assert load_settings(env={"HOME": "/root", "JWTKIT": "x"}) == Settings()


# -- conversion ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("YES", True),
        ("on", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("off", False),
        ("0", False),
    ],
)
def test_booleans_from_text(text: str, expected: bool) -> None:
    assert load_settings(env={"JWTKIT_PASSWORD_GRANT": text}).password_grant is expected


def test_optional_fields_are_unset_by_an_empty_string() -> None:
    env = {"JWTKIT_ALLOW_REGISTRATION": "", "JWTKIT_KEY_ENCRYPTION_KEY": ""}
    settings = load_settings(env=env)
    assert settings.allow_registration is None
    assert settings.key_encryption_key is None


def test_integers_from_text_allow_surrounding_spaces() -> None:
    assert load_settings(env={"JWTKIT_PORT": " 9000 "}).port == 9000


def test_strings_in_toml_are_converted(tmp_path: Path) -> None:
    path = _write(tmp_path, 'port = "7003"\npassword_grant = "no"\nallow_registration = true\n')
    settings = load_settings(env={}, config_file=path)
    assert (settings.port, settings.password_grant, settings.allow_registration) == (
        7003,
        False,
        True,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RS256", ("RS256",)),
        ("RS256 ES256", ("RS256", "ES256")),
        (" ES256,RS256 ,  EdDSA ", ("ES256", "RS256", "EdDSA")),
        ("RS256\tPS256", ("RS256", "PS256")),
    ],
)
def test_id_token_algorithms_from_text(text: str, expected: tuple[str, ...]) -> None:
    settings = load_settings(env={"JWTKIT_ID_TOKEN_ALGORITHMS": text})
    assert settings.id_token_algorithms == expected
    assert load_settings(cli={"id-token-algorithms": text}, env={}).id_token_algorithms == expected


def test_published_algorithms_from_every_source(tmp_path: Path) -> None:
    assert Settings().published_algorithms == ()
    assert Settings().access_token_algorithms == ("ES256",)
    env = {"JWTKIT_PUBLISHED_ALGORITHMS": "ML-DSA-65, EdDSA"}
    assert load_settings(env=env).published_algorithms == ("ML-DSA-65", "EdDSA")
    toml = _write(tmp_path, 'signing_algorithm = "ML-DSA-65"\npublished_algorithms = ["ES256"]\n')
    settings = load_settings(env={}, config_file=toml)
    assert settings.access_token_algorithms == ("ML-DSA-65", "ES256")
    listed = Settings(published_algorithms=["ML-DSA-87"])  # type: ignore[arg-type]
    assert listed.published_algorithms == ("ML-DSA-87",)


def test_id_token_algorithms_in_toml_and_python(tmp_path: Path) -> None:
    array = _write(tmp_path, 'id_token_algorithms = ["RS256", "EdDSA"]\n')
    assert load_settings(env={}, config_file=array).id_token_algorithms == ("RS256", "EdDSA")
    text = _write(tmp_path, 'id_token_algorithms = "EdDSA RS256"\n')
    assert load_settings(env={}, config_file=text).id_token_algorithms == ("EdDSA", "RS256")
    # a list becomes a tuple: the settings stay immutable and hashable
    listed = Settings(id_token_algorithms=["RS256", "PS256"])  # type: ignore[arg-type]
    assert listed.id_token_algorithms == ("RS256", "PS256")
    assert hash(listed) == hash(Settings(id_token_algorithms=("RS256", "PS256")))


@pytest.mark.parametrize("value", [5, ["RS256", 5], {"RS256": True}])
def test_id_token_algorithms_of_the_wrong_type(tmp_path: Path, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(cli={"id_token_algorithms": value}, env={})
    assert caught.value.problems == (
        "id_token_algorithms: expected a list of names (a TOML array of strings, or names "
        f"separated by spaces or commas), got {value!r} (from option --id-token-algorithms)",
    )
    text = _problem(id_token_algorithms="RS256")  # given directly: a tuple or list
    assert text.startswith(
        "id_token_algorithms (JWTKIT_ID_TOKEN_ALGORITHMS): expected a list of names"
    )


def test_conversion_errors_name_the_setting_and_the_source(tmp_path: Path) -> None:
    path = _write(tmp_path, "workers = 1.5\n")
    env = {"JWTKIT_PORT": "eighty", "JWTKIT_PASSWORD_GRANT": "maybe"}
    with pytest.raises(ConfigError) as caught:
        load_settings(cli={"audience": 5}, env=env, config_file=path)
    problems = caught.value.problems
    assert "port: expected an integer, got 'eighty' (from environment variable JWTKIT_PORT)" in (
        problems
    )
    assert any(
        p.startswith("password_grant: expected true or false (also yes/no, on/off, 1/0)")
        for p in problems
    )
    assert f"workers: expected an integer, got 1.5 (from config file {path})" in problems
    assert "audience: expected a string, got 5 (from option --audience)" in problems
    assert str(caught.value).startswith("invalid settings:\n  - ")


def test_a_bool_is_not_an_integer() -> None:
    with pytest.raises(ConfigError, match="port: expected an integer, got True"):
        load_settings(cli={"port": True}, env={})


def test_conversion_errors_never_echo_the_key_encryption_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(cli={"key_encryption_key": 12345678}, env={})
    assert "12345678" not in str(caught.value)
    assert "<hidden>" in str(caught.value)


# -- typo protection -------------------------------------------------------------------------


def test_unknown_environment_variables_are_listed_with_suggestions() -> None:
    env = {"JWTKIT_PROT": "1", "JWTKIT_ZZZ": "2"}
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env)
    assert str(caught.value) == (
        "unknown environment variables: JWTKIT_PROT (did you mean JWTKIT_PORT?), JWTKIT_ZZZ"
    )


def test_lower_case_environment_variable_is_unknown() -> None:
    with pytest.raises(ConfigError, match="JWTKIT_port"):
        load_settings(env={"JWTKIT_port": "1"})


def test_unknown_toml_keys_are_listed(tmp_path: Path) -> None:
    path = _write(tmp_path, "prot = 1\nissuer = 'https://id.example'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, config_file=path)
    assert str(caught.value) == f"config file {path}: unknown keys: prot (did you mean port?)"


def test_a_jwtkit_table_in_toml_gets_a_hint(tmp_path: Path) -> None:
    path = _write(tmp_path, "[jwtkit]\nport = 1\n")
    with pytest.raises(ConfigError, match=r"top level of the file, not in a \[jwtkit\] table"):
        load_settings(env={}, config_file=path)


def test_unknown_cli_settings_are_listed() -> None:
    with pytest.raises(ConfigError, match="unknown command-line settings: prot"):
        load_settings(cli={"prot": 1}, env={})


def test_missing_config_file(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match=f"config file {path}: cannot read it"):
        load_settings(env={}, config_file=path)


def test_invalid_toml(tmp_path: Path) -> None:
    path = _write(tmp_path, "port = = 1\n")
    with pytest.raises(ConfigError, match=f"config file {path}: not valid TOML"):
        load_settings(env={}, config_file=path)


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "issuer",
    [
        "https://id.example",
        "https://id.example:8443/tenant",
        "http://localhost:8000",
        "http://127.0.0.1",
        "http://[::1]:8000",
    ],
)
def test_valid_issuers(issuer: str) -> None:
    # An https issuer is a deployment: development there is only what was asked for.
    assert Settings(issuer=issuer, environment="development").issuer == issuer


@pytest.mark.parametrize(
    ("issuer", "message"),
    [
        ("http://id.example", "http is allowed only for localhost, 127.0.0.1 or [::1]"),
        ("ftp://id.example", "must be an https URL (e.g. https://id.example.com)"),
        ("id.example", "must be an https URL"),
        ("https://", "must be an https URL"),
        ("", "without spaces"),
        ("https://id.example/ x", "without spaces"),
        ("https://id.example:99999", "must be an https URL"),
        ("https://id.example?x=1", "must not have a query or fragment (RFC 8414 §2)"),
        ("https://id.example#x", "must not have a query or fragment"),
        ("https://user@id.example", "must not contain user information"),
        ("https://id.example/", "must not end with '/'"),
    ],
)
def test_invalid_issuers(issuer: str, message: str) -> None:
    text = _problem(issuer=issuer)
    assert text.startswith("issuer (JWTKIT_ISSUER): ")
    assert message in text


def test_http_issuer_is_refused_in_production() -> None:
    text = _problem(environment="production", issuer="http://localhost", key_encryption_key=KEK)
    assert text == (
        "issuer (JWTKIT_ISSUER): must be an https URL in production, got 'http://localhost'"
    )


def test_production_requires_a_key_encryption_key() -> None:
    text = _problem(environment="production", issuer="https://id.example")
    assert text.startswith("key_encryption_key (JWTKIT_KEY_ENCRYPTION_KEY): required in production")
    assert "secrets.token_urlsafe(32)" in text


@pytest.mark.parametrize(
    "kek",
    [
        "short",
        KEK + "A",
        secrets.token_urlsafe(24),
        "+" * 43,
    ],
)
def test_malformed_key_encryption_key_is_refused_without_echo(kek: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(key_encryption_key=kek)
    text = str(caught.value)
    if len(caught.value.problems) == 1:
        assert text.startswith("key_encryption_key (JWTKIT_KEY_ENCRYPTION_KEY): must be the")
    assert kek not in text


def test_key_encryption_key_with_non_zero_padding_bits_is_refused() -> None:
    raw_text = secrets.token_urlsafe(32)
    # the last character carries 2 padding bits; flip them on
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(raw_text[-1])
    tweaked = raw_text[:-1] + alphabet[last | 0b11]
    with pytest.raises(ValueError, match="base64url encoding of 32 random bytes"):
        decode_key_encryption_key(tweaked)


def test_key_encryption_key_accepts_padding() -> None:
    assert len(decode_key_encryption_key(KEK + "=")) == 32
    assert Settings(key_encryption_key=KEK + "=").key_encryption_key == KEK + "="


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"environment": "staging"}, "environment (JWTKIT_ENVIRONMENT): must be 'development' or"),
        ({"host": " "}, "host (JWTKIT_HOST): must not be empty"),
        ({"database": ""}, "database (JWTKIT_DATABASE): must not be empty"),
        ({"audience": " api"}, "audience (JWTKIT_AUDIENCE): must not start or end with spaces"),
        ({"key_file": ""}, "key_file (JWTKIT_KEY_FILE): must not be empty"),
        ({"port": 70000}, "port (JWTKIT_PORT): must be between 0 and 65535, got 70000"),
        (
            {"access_token_ttl": 0},
            "access_token_ttl (JWTKIT_ACCESS_TOKEN_TTL): must be between 1 and 86400 seconds",
        ),
        (
            {"access_token_ttl": 86401},
            "access_token_ttl (JWTKIT_ACCESS_TOKEN_TTL): must be between 1 and 86400 seconds",
        ),
        (
            {"refresh_idle_ttl": 0},
            "refresh_idle_ttl (JWTKIT_REFRESH_IDLE_TTL): must be at least 1 seconds, got 0",
        ),
        (
            {"refresh_idle_ttl": 2, "refresh_absolute_ttl": 1},
            "refresh_idle_ttl (JWTKIT_REFRESH_IDLE_TTL): must not exceed refresh_absolute_ttl (1)",
        ),
        (
            {"refresh_grace_period": -1},
            "refresh_grace_period (JWTKIT_REFRESH_GRACE_PERIOD): must be between 0 and 300",
        ),
        (
            {"signing_algorithm": "HS256"},
            "signing_algorithm (JWTKIT_SIGNING_ALGORITHM): must be one of ES256, RS256, PS256, "
            "EdDSA, ML-DSA-44, ML-DSA-65, ML-DSA-87, got 'HS256'",
        ),
        (
            {"id_token_algorithms": ("RS256", "ML-DSA-65")},
            "id_token_algorithms (JWTKIT_ID_TOKEN_ALGORITHMS): each must be one of ES256, "
            "RS256, PS256, EdDSA, got 'ML-DSA-65' (ML-DSA signs access tokens only: an ID "
            "token's at_hash needs the hash function of its alg, OpenID Connect Core 1.0 "
            "§3.1.3.6)",
        ),
        (
            {"published_algorithms": ("ML-DSA-65", "HS256")},
            "published_algorithms (JWTKIT_PUBLISHED_ALGORITHMS): each must be one of ES256, "
            "RS256, PS256, EdDSA, ML-DSA-44, ML-DSA-65, ML-DSA-87, got 'HS256'",
        ),
        (
            {"published_algorithms": ("ML-DSA-65", "ML-DSA-65")},
            "published_algorithms (JWTKIT_PUBLISHED_ALGORITHMS): names an algorithm twice, got "
            "'ML-DSA-65 ML-DSA-65'",
        ),
        (
            {"published_algorithms": ("ES256",)},
            "published_algorithms (JWTKIT_PUBLISHED_ALGORITHMS): must not name "
            "signing_algorithm (ES256), whose key signs access tokens already",
        ),
        (
            {"id_token_algorithms": ("ES256",)},
            "id_token_algorithms (JWTKIT_ID_TOKEN_ALGORITHMS): must include RS256 (OpenID "
            "Connect Discovery 1.0 §3: id_token_signing_alg_values_supported MUST include "
            "RS256), got 'ES256'",
        ),
        (
            {"id_token_algorithms": ()},
            "id_token_algorithms (JWTKIT_ID_TOKEN_ALGORITHMS): must include RS256 (OpenID "
            "Connect Discovery 1.0 §3: id_token_signing_alg_values_supported MUST include "
            "RS256), got none",
        ),
        (
            {"id_token_algorithms": ("RS256", "HS256", "none", "x" * 100)},
            "id_token_algorithms (JWTKIT_ID_TOKEN_ALGORITHMS): each must be one of ES256, "
            f"RS256, PS256, EdDSA, got 'HS256', 'none', '{'x' * 60}'...",
        ),
        (
            {"id_token_algorithms": ("RS256", "ES256", "RS256")},
            "id_token_algorithms (JWTKIT_ID_TOKEN_ALGORITHMS): names an algorithm twice, got "
            "'RS256 ES256 RS256'",
        ),
        (
            {"first_party_client_id": "first party"},
            "first_party_client_id (JWTKIT_FIRST_PARTY_CLIENT_ID): must be 1 to 128 printable",
        ),
        (
            {"default_scope": "openid  profile"},
            "default_scope (JWTKIT_DEFAULT_SCOPE): must be scope tokens separated by single "
            "spaces (RFC 6749 §3.3)",
        ),
        (
            {"default_scope": 'a"b'},
            "default_scope (JWTKIT_DEFAULT_SCOPE): must be scope tokens",
        ),
        (
            {"argon2_time_cost": 0},
            "argon2_time_cost (JWTKIT_ARGON2_TIME_COST): must be between 1 and 100",
        ),
        (
            {"argon2_parallelism": 0},
            "argon2_parallelism (JWTKIT_ARGON2_PARALLELISM): must be between 1 and 255",
        ),
        (
            {"argon2_memory_cost": 16, "argon2_parallelism": 4},
            "argon2_memory_cost (JWTKIT_ARGON2_MEMORY_COST): must be between 32 and 4194304 KiB "
            "(at least 8 x argon2_parallelism), got 16",
        ),
        (
            {"login_max_failures_per_user": 0},
            "login_max_failures_per_user (JWTKIT_LOGIN_MAX_FAILURES_PER_USER): must be at least 1",
        ),
        (
            {"login_max_failures_per_ip": 0},
            "login_max_failures_per_ip (JWTKIT_LOGIN_MAX_FAILURES_PER_IP): must be at least 1",
        ),
        (
            {"login_failure_window": 0},
            "login_failure_window (JWTKIT_LOGIN_FAILURE_WINDOW): must be at least 1 seconds",
        ),
        (
            {"max_body_bytes": 10},
            "max_body_bytes (JWTKIT_MAX_BODY_BYTES): must be between 1024 and 16777216 bytes",
        ),
        ({"log_level": "loud"}, "log_level (JWTKIT_LOG_LEVEL): must be one of critical, error"),
        ({"workers": 0}, "workers (JWTKIT_WORKERS): must be between 1 and 128, got 0"),
    ],
)
def test_every_validation_message_names_the_setting(values: dict[str, Any], expected: str) -> None:
    assert _problem(**values).startswith(expected)


def test_empty_default_scope_is_allowed() -> None:
    assert Settings(default_scope="").default_scope == ""


def test_port_zero_is_allowed() -> None:
    assert Settings(port=0).port == 0


def test_production_requires_owasp_argon2_memory() -> None:
    text = _problem(
        environment="production",
        issuer="https://id.example",
        key_encryption_key=KEK,
        argon2_memory_cost=8192,
    )
    assert text.startswith(
        "argon2_memory_cost (JWTKIT_ARGON2_MEMORY_COST): must be at least 19456 KiB in production"
    )


def test_wrong_types_given_directly_are_reported_before_ranges() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(port="8000", allow_registration="yes", key_encryption_key=5)  # type: ignore[arg-type]
    assert caught.value.problems == (
        "port (JWTKIT_PORT): expected an integer, got '8000'",
        "key_encryption_key (JWTKIT_KEY_ENCRYPTION_KEY): expected a string or nothing, "
        "got <hidden>",
        "allow_registration (JWTKIT_ALLOW_REGISTRATION): expected true or false or nothing, "
        "got 'yes'",
    )


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(port=-1, workers=0)
    assert len(caught.value.problems) == 2
    assert str(caught.value).count("\n  - ") == 2


def test_valid_production_settings() -> None:
    settings = load_settings(
        env={
            "JWTKIT_ENVIRONMENT": "production",
            "JWTKIT_ISSUER": "https://id.example",
            "JWTKIT_KEY_ENCRYPTION_KEY": KEK,
            "JWTKIT_SIGNING_ALGORITHM": "EdDSA",
            "JWTKIT_ID_TOKEN_ALGORITHMS": "RS256 ES256",
        }
    )
    assert settings.is_production
    assert settings.signing_algorithm == "EdDSA"
    assert settings.id_token_algorithms == ("RS256", "ES256")


# -- _extras ---------------------------------------------------------------------------------


def test_require_imports_an_installed_module() -> None:
    assert require("json", "server").__name__ == "json"


def test_require_prints_the_install_line() -> None:
    with pytest.raises(MissingExtra) as caught:
        require("jwtkit_no_such_module", "server")
    assert (
        str(caught.value) == "jwtkit serve needs the 'server' extra: pip install 'jwtkit[server]'"
    )
    assert isinstance(caught.value, ImportError)
    assert (caught.value.module, caught.value.extra) == ("jwtkit_no_such_module", "server")


def test_require_names_unknown_extras_generically() -> None:
    with pytest.raises(
        MissingExtra, match=r"needs the 'postgres' extra: pip install 'jwtkit\[postgres\]'"
    ):
        require("jwtkit_no_such_module", "postgres")


def test_a_non_string_log_level_is_a_type_problem() -> None:
    assert _problem(log_level=5) == "log_level (JWTKIT_LOG_LEVEL): expected a string, got 5"


# -- development mode where others can reach it (attack finding 3) -------------------------


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"host": "0.0.0.0"}, "listens on '0.0.0.0', which is not a loopback address"),  # noqa: S104
        ({"host": "::"}, "listens on '::', which is not a loopback address"),
        ({"host": "192.0.2.1"}, "listens on '192.0.2.1'"),
        ({"host": "id.example"}, "listens on 'id.example'"),
        ({"issuer": "https://id.example.com"}, "has an https issuer (https://id.example.com)"),
        (
            {"host": "0.0.0.0", "issuer": "https://id.example.com"},  # noqa: S104
            "listens on '0.0.0.0'",
        ),
    ],
)
def test_development_by_default_is_refused_where_others_can_reach_it(
    values: dict[str, Any], where: str
) -> None:
    text = _problem(**values)
    assert text.startswith("environment (JWTKIT_ENVIRONMENT): not set, and the service " + where)
    assert "environment = 'production'" in text
    assert "'development' explicitly" in text
    # The same through every settings source that does not name the environment.
    with pytest.raises(ConfigError, match=r"environment \(JWTKIT_ENVIRONMENT\): not set"):
        load_settings(cli=values, env={})
    env = {env_var(name): value for name, value in values.items()}
    with pytest.raises(ConfigError, match=r"environment \(JWTKIT_ENVIRONMENT\): not set"):
        load_settings(env=env)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_development_by_default_stays_on_loopback(host: str) -> None:
    settings = Settings(host=host)
    assert settings.environment == "development"
    assert not settings.environment_given
    assert settings.registration_enabled


def test_development_given_explicitly_runs_anywhere(tmp_path: Path) -> None:
    exposed: dict[str, Any] = {"host": "0.0.0.0", "issuer": "https://id.example.com"}  # noqa: S104
    given = [
        Settings(**exposed, environment="development"),
        load_settings(cli={**exposed, "environment": "development"}, env={}),
        load_settings(
            env={
                **{env_var(k): v for k, v in exposed.items()},
                env_var("environment"): "development",
            }
        ),
        load_settings(
            env={}, config_file=_write(tmp_path, 'environment = "development"\nhost = "0.0.0.0"\n')
        ),
    ]
    for settings in given:
        assert settings.environment == "development"
        assert settings.environment_given
        assert settings.registration_enabled  # what was asked for
    # dataclasses.replace keeps whether it was given: the default stays "not given".
    assert not dataclasses.replace(Settings(), port=9000).environment_given
    with pytest.raises(ConfigError, match="not set"):
        dataclasses.replace(Settings(), host="0.0.0.0")  # noqa: S104
    assert dataclasses.replace(given[0], port=9000).environment_given


def test_production_runs_anywhere() -> None:
    settings = Settings(
        host="0.0.0.0",  # noqa: S104
        issuer="https://id.example.com",
        environment="production",
        key_encryption_key=KEK,
    )
    assert settings.is_production
    assert settings.environment_given
    assert not settings.registration_enabled


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"product_name": "x" * 61}, "product_name (JWTKIT_PRODUCT_NAME): must be 1 to 60"),
        ({"product_name": "Acme\n"}, "product_name (JWTKIT_PRODUCT_NAME): must"),
        (
            {"session_idle_ttl": 7200, "session_absolute_ttl": 3600},
            "session_idle_ttl (JWTKIT_SESSION_IDLE_TTL): must not exceed session_absolute_ttl",
        ),
        ({"authorization_code_ttl": 61}, "authorization_code_ttl"),
        ({"resources": "api"}, "resources (JWTKIT_RESOURCES): a resource must be an absolute URI"),
        ({"resources": "https://api.example/#x"}, "must not have a fragment"),
        ({"resources": "1http://api.example/"}, "must be an absolute URI"),
    ],
)
def test_browser_login_settings_are_checked(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as refusal:
        Settings(**values)  # type: ignore[arg-type]
    assert message in str(refusal.value)


def test_resources_are_split_on_spaces() -> None:
    settings = Settings(resources="https://a.example/ urn:example:b")
    assert settings.resource_indicators == ("https://a.example/", "urn:example:b")
    assert Settings().resource_indicators == ()
