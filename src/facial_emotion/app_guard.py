"""What the app lets through to Gradio: an ASGI middleware in front of its routes.

Gradio's own checks assume a page opened on this machine. Reached by a network address or a
proxy's name, its CORS let any web site use the app and read the answers; any client could make it
fetch a URL (with no size cap) or send bodies of any size; and routes the page never uses stayed
open. A security review (2026-12-06) measured each; the numbers are with the constants below.
A second review found that a page could name itself the host (X-Forwarded-Host), that a chunked
body passed the size cap, and that a site whose own name resolves to this machine (DNS rebinding)
passed for it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from facial_emotion.paths import printable

if TYPE_CHECKING:  # Starlette comes with Gradio, the [app] extra
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD = "/gradio_api/upload"
MAX_UPLOAD_BODY = 60_000_000  # bytes of one upload request: one 50 MB picture and its form fields
MAX_BODY = 1_000_000  # bytes of any other request: a call's JSON names a file, it never holds one
# Bytes of uploads kept at once (each for up to an hour): with no cap, one client on the network
# stored 764 MB of random bytes in 13 s, and would have filled the disk (or, where /tmp is a
# tmpfs, the memory) within minutes. 2 GB holds 40 uploads at the cap, hundreds of phone photos.
MAX_STORED = 2_000_000_000
# Routes the page never uses, each open to anyone who reaches the app: screen recording that runs
# ffmpeg on uploads (into the shared /tmp/gradio), an endless stream polled 20 times a second (600
# open took 42% of a core), request counts, the vibe editor, and the route list.
UNUSED_ROUTES = (
    "/gradio_api/process_recording",
    "/gradio_api/dev/",
    "/monitoring",
    "/gradio_api/vibe",
    "/gradio_api/undo-vibe",
    "/openapi.json",
    "/gradio_api/openapi.json",
)
FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/")
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]

Refusal = tuple[int, str]
WRONG_HOST: Refusal = (
    403,
    "this app answers to this machine's addresses and names only; to reach it by "
    "another name (a proxy's), start it with --allowed-host NAME",
)
STORE_FULL: Refusal = (
    503,
    "the app holds as many uploads as it keeps at once; each goes within the hour: try later",
)
MAX_LOGGED_HOSTS = 10  # names of refused hosts said in the log, each once: a flood says no more


class RequestGuard:
    """Refuses requests naming a host this app is not, requests from other sites' pages, bodies
    past the caps, URLs to fetch and the routes the page never uses; marks every answer not to be
    framed, and photos not to be kept in the browser's cache."""

    def __init__(
        self, app: ASGIApp, allowed_hosts: Iterable[str] = (), uploads: str | None = None
    ) -> None:
        """``uploads`` is the folder uploads are stored in, whose size ``MAX_STORED`` caps."""
        self.app = app
        self.names = known_names(allowed_hosts)
        self.logged_hosts: set[str] = set()
        self.uploads = uploads
        self.arriving = 0  # bytes of uploads being received, not all on disk yet

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path, method = scope["path"], scope["method"]
        refusal = refusal_of(method, path, headers, self.names)
        body_checked = method == "POST" and path != UPLOAD  # a call's JSON, a login's form
        if refusal is None and body_checked:
            body = await whole_body(receive)
            refusal = refusal_of_body(body) if len(body) <= MAX_BODY else too_long(MAX_BODY)
            receive = replaying(body, receive)
        uploading = refusal is None and method == "POST" and path == UPLOAD
        sending = int(headers["content-length"]) if uploading else 0  # checked to be digits
        if sending and self.uploads is not None:
            if stored_bytes(self.uploads) + self.arriving + sending > MAX_STORED:
                refusal = STORE_FULL
        if refusal is WRONG_HOST:
            self.log_wrong_host(headers.get("host", ""))
        if refusal is not None:
            status, text = refusal
            start = {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), *SECURITY_HEADERS],
            }
            await send(start)
            await send({"type": "http.response.body", "body": text.encode()})
            return
        extra = [(b"cache-control", b"no-store")] if path.startswith(FILE_ROUTES) else []

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS, *extra]
            await send(message)

        self.arriving += sending
        try:
            await self.app(scope, receive, marked)
        finally:
            self.arriving -= sending

    def log_wrong_host(self, host: str) -> None:
        """Say in the app's log, once per name, that requests for ``host`` are refused: behind
        a container's service name or an ingress, every page was refused with nothing in the
        log, where the people running the app look."""
        try:
            name = urlsplit(f"//{host}").hostname or host
        except ValueError:
            name = host
        name = printable(name[:100])
        if name in self.logged_hosts or len(self.logged_hosts) > MAX_LOGGED_HOSTS:
            return
        self.logged_hosts.add(name)
        if len(self.logged_hosts) > MAX_LOGGED_HOSTS:
            print(
                "facial-emotion app: more refused host names: no more are logged", file=sys.stderr
            )
            return
        print(
            f"facial-emotion app: refused requests for host {name!r}, not this machine's name or "
            f"address; if people reach the app by that name, start it with --allowed-host {name}",
            file=sys.stderr,
        )


def known_names(allowed_hosts: Iterable[str]) -> frozenset[str]:
    """The host names the app answers to besides IP addresses: this machine's, and those given
    (a proxy's). A rebinding attacker's page names its own domain, which resolves here."""
    machine = socket.gethostname()  # not getfqdn(), which waits on DNS
    names = {"localhost", machine, f"{machine}.local", *allowed_hosts}
    return frozenset(name.lower().rstrip(".") for name in names if name)


def host_allowed(host: str, names: frozenset[str]) -> bool:
    """Whether a Host header names this app: an IP address (a rebinding page's own origin is a
    name, never this address) or one of ``names``; the port is not judged."""
    if "@" in host:  # user info, which no browser sends, and which hostname would drop
        return False
    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:  # an unclosed or malformed [IPv6] bracket
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return name.rstrip(".") in names


def refusal_of(
    method: str, path: str, headers: dict[str, str], names: frozenset[str]
) -> Refusal | None:
    """Why a request is refused from its line and headers, or None."""
    host = headers.get("host", "").lower()
    if host and not host_allowed(host, names):
        return WRONG_HOST
    origin = headers.get("origin")
    # the Host alone: X-Forwarded-Host is a header any page may set (Gradio's CORS allows it)
    if origin is not None and (not host or urlsplit(origin).netloc.lower() != host):
        return 403, (
            "requests from other sites' pages are refused; behind a proxy, pass the Host "
            "header on as the browser sent it (nginx: proxy_set_header Host $http_host)"
        )
    if path.startswith(UNUSED_ROUTES):
        return 404, "not found"
    if path.startswith(FILE_ROUTES) and "://" in unquote(path):
        return 403, "the app does not fetch URLs"
    if method == "POST":
        length = headers.get("content-length", "")
        # with Transfer-Encoding the body is framed by its chunks, whatever Content-Length says:
        # "Content-Length: 2" carried 200 MB past the cap
        if "transfer-encoding" in headers or not (length.isascii() and length.isdigit()):
            return 411, "send a Content-Length, and no Transfer-Encoding"
        cap = MAX_UPLOAD_BODY if path == UPLOAD else MAX_BODY
        if int(length) > cap:
            return too_long(cap)
    return None


def stored_bytes(folder: str) -> int:
    """Bytes of the files under ``folder`` (a few thousand at most: milliseconds)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # deleted meanwhile
                pass
    return total


def too_long(cap: int) -> Refusal:
    """One answer for a body past ``cap``, whether its Content-Length says so or its bytes do."""
    return 413, f"request over {cap} bytes"


def refusal_of_body(body: bytes) -> Refusal | None:
    """A call naming a URL as its file: Gradio downloads such a "file" before the app sees it,
    whole into memory and past the upload cap (a 120 MB download took 257 MB)."""
    try:
        data = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None  # Gradio answers malformed JSON itself
    pending = [data]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            path = node.get("path")
            if isinstance(path, str) and "://" in path:
                return 400, "the app reads uploaded pictures, not URLs"
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return None


async def whole_body(receive: Receive) -> bytes:
    """A request's body, up to one byte past ``MAX_BODY``: ``refusal_of`` capped its
    Content-Length, which the server holds it to, and this does not rely on that alone."""
    chunks, size = [], 0
    while size <= MAX_BODY:
        message = await receive()
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` as Gradio must see it: the guard read a call's body whole to check it, so
    the route behind it is handed those bytes first, then whatever follows."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
