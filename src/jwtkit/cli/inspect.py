"""``jwtkit inspect``: the token page on this machine, served by the standard library.

The page of ``jwtkit serve`` (``jwtkit._page``: decode and verify tokens in the browser) on a
loopback address, with no service behind it: ``GET /`` is ``index.html``, ``GET /page/<file>``
the page's other files (by name, never a path: no directory listing, nothing else of the
disk), ``POST /audit`` the token audit (:func:`jwtkit._token_audit.audit_request`, the
contract of the service's ``POST /audit``); anything else is a JSON 404 (405 for another
method on a known path).

Hardening, as on the service: every answer carries the page's ``Content-Security-Policy``
(:data:`jwtkit._page.PAGE_HEADERS`), ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store``. Only loopback addresses are
served (a token pasted here never crosses the network), and only a ``Host`` naming one of them
is answered, so that a web page cannot reach the server through a DNS name rebound to
127.0.0.1. A body is at most :data:`MAX_BODY` bytes with a ``Content-Length`` (no chunked
bodies); a connection idle for :data:`IDLE_TIMEOUT` seconds is closed. Ctrl-C or SIGTERM
stops the server (exit status 0).
"""

from __future__ import annotations

import errno
import json
import signal
import socket
import sys
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import click

from .. import _oauth
from .._page import PAGE_FILES, PAGE_HEADERS, page_file
from .._token_audit import audit_request
from .._urls import is_loopback_host, netloc
from ..errors import JWTError
from . import _time
from ._errors import CommandFailed, UsageProblem

__all__ = ["IDLE_TIMEOUT", "MAX_BODY", "inspect_command", "make_server"]

#: The largest request body: the service's default ``max_body_bytes``.
MAX_BODY = 65536
#: Seconds a connection may stay silent before it is closed.
IDLE_TIMEOUT = 10.0
_HEADERS = dict(PAGE_HEADERS)
_INDEX = "index.html"
_PAGE_PREFIX = "/page/"
_AUDIT = "/audit"
#: Browsers ask for it on their own: 204 No Content, as on the service (the page has no icon).
_FAVICON = "/favicon.ico"


def _page_name(path: str) -> str | None:
    """The page's file a GET of ``path`` asks for (``/`` is ``index.html``, ``/page/<name>``
    another file), or ``None`` for a path outside the page."""
    if path == "/":
        return _INDEX
    name = path.removeprefix(_PAGE_PREFIX)
    return None if name in (path, _INDEX) else name


_ERRORS = {
    HTTPStatus.NOT_FOUND: "not_found",
    HTTPStatus.METHOD_NOT_ALLOWED: "method_not_allowed",
}


class _Handler(BaseHTTPRequestHandler):
    """One request to the page's server (the module's docstring)."""

    #: A request line without a version is answered with a status line too (never HTTP/0.9).
    default_request_version = "HTTP/1.0"
    timeout = IDLE_TIMEOUT
    server: _PageServer

    def do_GET(self) -> None:
        if not self._host_ok():
            return
        path = self._path()
        if path == _AUDIT:
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, "use POST to audit a token")
            return
        if path == _FAVICON:
            self._send(HTTPStatus.NO_CONTENT, b"", None)
            return
        name = _page_name(path)
        if name is None or name not in PAGE_FILES:
            self._error(HTTPStatus.NOT_FOUND, "no such page")
            return
        self._send(HTTPStatus.OK, page_file(name), PAGE_FILES[name])

    def do_POST(self) -> None:
        if not self._host_ok():
            return
        path = self._path()
        if path != _AUDIT:
            known = _page_name(path) is not None
            status = HTTPStatus.METHOD_NOT_ALLOWED if known else HTTPStatus.NOT_FOUND
            self._error(status, "only POST /audit takes a body")
            return
        media = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media != "application/json":
            self._error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "the request body must be application/json"
            )
            return
        body = self._body()
        if body is None:
            return
        try:
            answer = audit_request(body, now=_time.current_time())
        except JWTError as exc:
            self._error(HTTPStatus.BAD_REQUEST, exc.message)
            return
        self._send(HTTPStatus.OK, json.dumps(answer).encode(), "application/json")

    def _body(self) -> bytes | None:
        """The request body, or ``None`` once a bad length has been answered."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._error(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
            return None
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            self._error(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
            return None
        if int(length) > MAX_BODY:
            self._error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the request body exceeds {MAX_BODY} bytes"
            )
            return None
        return self.rfile.read(int(length))

    def version_string(self) -> str:
        """The ``Server`` header: the product alone, no Python version."""
        return "jwtkit"

    def _path(self) -> str:
        """The request target's path (origin form: the query dropped)."""
        return self.path.split("?", 1)[0]

    def _host_ok(self) -> bool:
        """Whether ``Host`` names this server by a loopback name (else answered 400)."""
        host = self.headers.get("Host", "")
        if not host.endswith("]"):
            host = host.rsplit(":", 1)[0]
        if is_loopback_host(host):
            return True
        self._error(HTTPStatus.BAD_REQUEST, "this server answers only to a loopback Host")
        return False

    def _send(self, status: HTTPStatus, content: bytes, media_type: str | None) -> None:
        """``content`` of ``media_type``, or no content at all (``None``: 204, RFC 9110
        §15.3.5, without Content-Length)."""
        self.send_response(status)
        if media_type is not None:
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(content)))
        for name, value in _HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)

    def _error(self, status: HTTPStatus, description: str) -> None:
        error = _ERRORS.get(status, "invalid_request")
        body = json.dumps(_oauth.error_body(error, description)).encode()
        self._send(status, body, "application/json")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, headers too long, an
        unsupported method) as the same JSON errors, by their status alone (http.server's
        messages quote the request line)."""
        status = HTTPStatus(code)
        if status == HTTPStatus.NOT_IMPLEMENTED:
            status = HTTPStatus.METHOD_NOT_ALLOWED
        self._error(status, status.phrase)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: requests are not logged (a token may be in a URL someone pasted)."""


class _PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A request that failed unexpectedly: one line on stderr, never a traceback; the
        server keeps serving."""
        failure = sys.exc_info()[1]
        click.echo(f"jwtkit: warning: a request failed: {failure!r}", err=True)


class _PageServer6(_PageServer):
    address_family = socket.AF_INET6


def make_server(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """The page's server bound to ``host`` (a loopback address or ``localhost``) and ``port``
    (0: any free port); :class:`UsageProblem` for another host, :class:`CommandFailed` when
    the address cannot be bound (a port in use, say)."""
    if not is_loopback_host(host):
        raise UsageProblem(
            f"--host {host}: jwtkit inspect serves on a loopback address only (127.0.0.1, ::1, "
            "localhost); use jwtkit serve to serve the page to others"
        )
    address = host.strip("[]")
    server_class = _PageServer6 if ":" in address else _PageServer
    try:
        return server_class((address, port), _Handler)
    except OSError as exc:
        reason = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise CommandFailed(f"cannot listen on {netloc(address, port)}: {reason}") from None


@click.command("inspect")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Loopback address to listen on (127.0.0.1, ::1 or localhost).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the web browser.")
def inspect_command(host: str, port: int, open_browser: bool) -> None:
    """Serve the token page on this machine: decode and verify tokens in the browser, and
    audit them (POST /audit, as jwtkit audit does) without a token service.

    Only loopback addresses are served; Ctrl-C stops the server.

    \b
    Examples:
      jwtkit inspect --open
      jwtkit inspect --port 0
    """
    server = make_server(host, port)
    bound_host, bound_port = server.server_address[:2]
    url = f"http://{netloc(str(bound_host), int(bound_port))}/"
    click.echo(f"jwtkit inspect: the token page is at {url} (Ctrl-C stops)")
    if open_browser:
        webbrowser.open(url)
    # SIGTERM (kill, a service manager) stops it as Ctrl-C does.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("jwtkit inspect: stopped")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
