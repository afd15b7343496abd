"""``jwtkit inspect``: the token page and ``POST /audit`` on loopback, from the standard
library's HTTP server; in-process (a thread) for every answer, and as a real process."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from jwtkit import _page
from jwtkit._page import PAGE_POLICY
from jwtkit.cli import inspect as inspect_module
from jwtkit.cli._errors import CommandFailed, UsageProblem
from jwtkit.cli.inspect import MAX_BODY, make_server

from .helpers import raw_token, run

HARDENING = {
    "content-security-policy": PAGE_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
BAD = raw_token({"alg": "HS256", "kid": "../etc/passwd"}, {"sub": "42", "password": "x"})


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = {name.lower(): value for name, value in response.getheaders()}
        self.body = response.read()

    def json(self) -> Any:
        assert self.headers["content-type"] == "application/json"
        return json.loads(self.body)


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    """The page's server on a free loopback port, in a thread."""
    running = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", int(running.server_address[1])
    finally:
        running.shutdown()
        running.server_close()
        thread.join(5)


def request(
    address: tuple[str, int],
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    connection = http.client.HTTPConnection(*address, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        return Answer(connection.getresponse())
    finally:
        connection.close()


def audit(address: tuple[str, int], body: bytes, **headers: str) -> Answer:
    return request(address, "POST", "/audit", body, {"Content-Type": "application/json", **headers})


def assert_hardened(answer: Answer) -> None:
    for name, value in HARDENING.items():
        assert answer.headers[name] == value, name


def test_the_page_and_its_files(server: tuple[str, int]) -> None:
    index = request(server, "GET", "/")
    assert index.status == 200
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    assert index.body == _page.page_file("index.html")
    assert_hardened(index)
    for name, media_type in _page.PAGE_FILES.items():
        if name == "index.html":
            continue
        answer = request(server, "GET", f"/page/{name}?v=1")
        assert answer.status == 200, name
        assert answer.headers["content-type"] == media_type
        assert answer.body == _page.page_file(name)
        assert_hardened(answer)


def test_the_favicon_is_no_content(server: tuple[str, int]) -> None:
    answer = request(server, "GET", "/favicon.ico")
    assert (answer.status, answer.body) == (204, b"")
    assert "content-length" not in answer.headers
    assert_hardened(answer)


@pytest.mark.parametrize(
    "path",
    [
        "/page/index.html",
        "/page/",
        "/page",
        "/page/../pyproject.toml",
        "/page/__init__.py",
        "/page/%2e%2e/__init__.py",
        "/static/jwtkit.css",
        "/index.html",
    ],
)
def test_anything_else_is_a_json_404(server: tuple[str, int], path: str) -> None:
    answer = request(server, "GET", path)
    assert answer.status == 404
    assert answer.json()["error"] == "not_found"
    assert_hardened(answer)


def test_post_audit_answers_the_findings_of_jwtkit_audit_json(server: tuple[str, int]) -> None:
    answer = audit(server, json.dumps({"token": BAD}).encode())
    assert answer.status == 200
    assert_hardened(answer)
    cli = run("audit", "--json", BAD).json()
    found = answer.json()
    assert found["counts"] == cli["counts"]
    assert [(f["id"], f["where"], f["message"]) for f in found["findings"]] == [
        (f["id"], f["location"], f["message"]) for f in cli["findings"]
    ]
    assert BAD not in answer.body.decode()


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"not json", 400, "request body"),
        (b'{"token": 1}', 400, "must be a string"),
        (b'{"token": "x", "more": 1}', 400, "one member"),
        (json.dumps({"token": "not-a-token"}).encode(), 400, "segments"),
    ],
)
def test_post_audit_refuses_a_bad_body(
    server: tuple[str, int], body: bytes, status: int, reason: str
) -> None:
    answer = audit(server, body)
    assert answer.status == status
    assert answer.json()["error"] == "invalid_request"
    assert reason in answer.json()["error_description"]
    assert "not-a-token" not in answer.body.decode()
    assert_hardened(answer)


def test_post_audit_bounds_and_media_types(server: tuple[str, int]) -> None:
    form = request(server, "POST", "/audit", b"token=x", {"Content-Type": "text/plain"})
    assert form.status == 415
    big = audit(server, b"x" * (MAX_BODY + 1))
    assert big.status == 413
    assert big.json()["error"] == "invalid_request"
    for framing in ({"Transfer-Encoding": "chunked"}, {}, {"Content-Length": "-1"}):
        connection = http.client.HTTPConnection(*server, timeout=10)
        connection.putrequest("POST", "/audit")
        connection.putheader("Content-Type", "application/json")
        for name, value in framing.items():
            connection.putheader(name, value)
        connection.endheaders(b"0\r\n\r\n" if framing else None)
        assert Answer(connection.getresponse()).status == 411, framing
        connection.close()
    empty = request(server, "POST", "/audit", None, {"Content-Type": "application/json"})
    assert empty.status == 400


def test_methods_and_paths(server: tuple[str, int]) -> None:
    assert request(server, "GET", "/audit").status == 405
    assert request(server, "POST", "/", b"{}", {"Content-Type": "application/json"}).status == 405
    assert request(server, "POST", "/nowhere", b"{}").status == 404
    deleted = request(server, "DELETE", "/")
    assert deleted.status == 405
    assert deleted.json()["error"] == "method_not_allowed"
    assert_hardened(deleted)


def test_only_a_loopback_host_is_answered(server: tuple[str, int]) -> None:
    for host in ("attacker.example", "attacker.example:80", "", "127.0.0.1.nip.io"):
        answer = request(server, "GET", "/", headers={"Host": host})
        assert answer.status == 400, host
        assert "loopback Host" in answer.json()["error_description"]
    posted = audit(server, b"{}", Host="attacker.example")
    assert posted.status == 400
    for host in ("localhost", "localhost:1", "[::1]:8765", "[::1]", "127.0.0.1"):
        assert request(server, "GET", "/", headers={"Host": host}).status == 200, host


def test_a_malformed_request_gets_a_json_error(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=10) as raw:
        raw.sendall(b"NONSENSE\r\n\r\n")
        chunks = []
        while chunk := raw.recv(65536):
            chunks.append(chunk)
        answer = b"".join(chunks).decode()
    status_line, _, rest = answer.partition("\r\n")
    assert status_line == "HTTP/1.0 400 Bad Request"
    body = json.loads(rest.split("\r\n\r\n", 1)[1])
    assert body == {"error": "invalid_request", "error_description": "Bad Request"}


def test_a_failing_request_is_one_line_and_the_server_goes_on(
    server: tuple[str, int], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(body: bytes, *, now: float) -> dict[str, Any]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(inspect_module, "audit_request", broken)
    with pytest.raises(http.client.RemoteDisconnected):
        audit(server, b"{}")
    assert "jwtkit: warning: a request failed: RuntimeError('a bug')" in capsys.readouterr().err
    assert request(server, "GET", "/").status == 200


def test_help_has_examples() -> None:
    result = run("inspect", "--help")
    assert result.code == 0
    assert "Examples:" in result.out
    assert "jwtkit inspect --open" in result.out


def test_make_server_refuses_other_hosts_and_taken_ports() -> None:
    with pytest.raises(UsageProblem, match="loopback address only"):
        make_server("0.0.0.0", 0)  # noqa: S104 - the refused case
    first = make_server("localhost", 0)
    try:
        port = int(first.server_address[1])
        with pytest.raises(CommandFailed, match="the port is in use"):
            make_server("127.0.0.1", port)
    finally:
        first.server_close()


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:  # pragma: no cover - hosts without IPv6
        pytest.skip("no IPv6")
    try:
        running = make_server("[::1]", 0)
    except CommandFailed:  # pragma: no cover - IPv6 disabled
        pytest.skip("::1 cannot be bound here")
    running.server_close()
    assert running.address_family == socket.AF_INET6


def test_another_bind_failure_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(inspect_module._PageServer, "server_bind", refuse)
    with pytest.raises(CommandFailed, match=r"127\.0\.0\.1:80: Permission denied"):
        make_server("127.0.0.1", 80)


def test_the_command_prints_the_url_opens_the_browser_and_stops_on_ctrl_c(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", opened.append)

    def interrupted(self: Any, poll_interval: float = 0.5) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(inspect_module._PageServer, "serve_forever", interrupted)
    result = run("inspect", "--port", "0", "--open")
    assert result.code == 0, result.err
    first, second = result.out.splitlines()
    assert first.startswith("jwtkit inspect: the token page is at http://127.0.0.1:")
    assert opened == [first.split(" at ")[1].split(" ")[0]]
    assert second == "jwtkit inspect: stopped"

    def terminated(self: Any, poll_interval: float = 0.5) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(inspect_module._PageServer, "serve_forever", terminated)
    before = signal.getsignal(signal.SIGTERM)
    stopped = run("inspect", "--port", "0")
    assert stopped.code == 0
    assert stopped.out.splitlines()[1] == "jwtkit inspect: stopped"
    assert signal.getsignal(signal.SIGTERM) is before
    assert len(opened) == 1
    refused = run("inspect", "--host", "192.0.2.1")
    assert refused.code == 2
    assert refused.err.strip().startswith("jwtkit: error: --host 192.0.2.1:")


# -- as a process ------------------------------------------------------------------------------


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "jwtkit", "inspect", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    return process, line


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_real_process_serves_the_page_and_stops_cleanly(stop: signal.Signals) -> None:
    process, line = _start("--port", "0")
    try:
        assert line.startswith("jwtkit inspect: the token page is at http://127.0.0.1:"), line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        address = ("127.0.0.1", port)
        index = request(address, "GET", "/")
        assert index.status == 200
        assert index.headers["server"] == "jwtkit"
        assert_hardened(index)
        assert request(address, "GET", "/page/page.css").status == 200
        assert request(address, "GET", "/etc/passwd").status == 404
        good = audit(address, json.dumps({"token": BAD}).encode())
        assert good.status == 200
        assert {"alg-hmac", "kid-suspicious"} <= {f["id"] for f in good.json()["findings"]}
        assert audit(address, b"[]").status == 400
        process.send_signal(stop)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:  # pragma: no cover - a hung server
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert out == "jwtkit inspect: stopped\n"
    assert err == ""


def test_a_taken_port_is_one_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "jwtkit", "inspect", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert process.returncode == 1
    assert process.stdout == ""
    assert (
        process.stderr == f"jwtkit: error: cannot listen on 127.0.0.1:{port}: the port is in use\n"
    )
