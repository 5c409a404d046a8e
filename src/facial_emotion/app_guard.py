"""What the app lets through to Gradio: an ASGI middleware in front of its routes.

Gradio's own checks assume a page opened on this machine. Reached by a network address or a
proxy's name, its CORS let any web site use the app and read the answers; any client could make it
fetch a URL (with no size cap) or send bodies of any size; and routes the page never uses stayed
open. A security review (2026-12-06) measured each; the numbers are with the constants below.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

UPLOAD = "/gradio_api/upload"
MAX_UPLOAD_BODY = 60_000_000  # bytes of one upload request: one 50 MB picture and its form fields
MAX_BODY = 1_000_000  # bytes of any other request: a call's JSON names a file, it never holds one
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


class RequestGuard:
    """Refuses requests from other sites' pages, bodies past the caps, URLs to fetch and the
    routes the page never uses; marks every answer not to be framed, and photos not to be kept
    in the browser's cache."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path, method = scope["path"], scope["method"]
        refusal = refusal_of(method, path, headers)
        reads_json = method == "POST" and path != UPLOAD
        if refusal is None and reads_json:
            body = await whole_body(receive)
            refusal = refusal_of_body(body)
            receive = replaying(body, receive)
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

        async def marked(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS, *extra]
            await send(message)

        await self.app(scope, receive, marked)


def refusal_of(method: str, path: str, headers: dict[str, str]) -> Refusal | None:
    """Why a request is refused from its line and headers, or None."""
    origin = headers.get("origin")
    hosts = {headers.get("host", "").lower(), headers.get("x-forwarded-host", "").lower()} - {""}
    if origin is not None and urlsplit(origin).netloc.lower() not in hosts:
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
        if not length.isdigit():
            return 411, "send a Content-Length"
        cap = MAX_UPLOAD_BODY if path == UPLOAD else MAX_BODY
        if int(length) > cap:
            return 413, f"request over {cap} bytes"
    return None


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


async def whole_body(receive: Any) -> bytes:
    """A request's body, whose size ``refusal_of`` has capped by its Content-Length."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def replaying(body: bytes, receive: Any) -> Any:
    """``receive`` giving ``body``, already read, first."""
    sent = False

    async def replayed() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
