"""Serving the web app whose page ``app.py`` builds: the address checked before anything loads,
a private folder for the uploads, removed when the app stops, and Gradio's launch behind the
request guard."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from facial_emotion.app import LIVE_SUMMARY, PAGE_TEXT, Recognizer, build_app, page_theme
from facial_emotion.errors import FacialEmotionError

MAX_UPLOAD = "50mb"  # a 12000x8000 JPEG is about 30 MB
MAX_QUEUE = 20  # pictures waiting their turn; more are refused with "queue full"
# Gradio settings read from the environment (left there by another Gradio project, say) that
# would widen what this app serves or runs
WIDENING_SETTINGS = (
    "GRADIO_ALLOWED_PATHS",
    "GRADIO_VIBE_MODE",
    "GRADIO_WATCH_DIRS",
    "GRADIO_LOCAL_DEV_MODE",
    "GRADIO_DEFAULT_CONCURRENCY_LIMIT",
)


def require_free_address(host: str, port: int) -> None:
    """Name what is wrong with ``host:port`` before Gradio, which reports a busy port and a host
    that is not this machine's alike, and fails on IPv6 with a traceback."""
    import errno
    import socket

    if ":" in host:
        raise FacialEmotionError(
            f"{host}: the app serves on IPv4 only; pass --host 127.0.0.1 (this machine) "
            "or 0.0.0.0 (every network)"
        )
    with socket.socket() as probe:
        if os.name == "posix":
            # as the server binds (Gradio and uvicorn set it): without it, the app stopped while a
            # visitor's page was open could not start again for a minute, its port "in use" by
            # closed connections (TIME_WAIT). On Windows it would let a busy port pass.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as exc:
            raise FacialEmotionError(
                f"{host}: unknown host ({exc.strerror}); pass --host 127.0.0.1 or 0.0.0.0"
            ) from exc
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise FacialEmotionError(f"{host}:{port}: port in use; pass a free --port") from exc
            raise FacialEmotionError(
                f"{host}:{port}: cannot serve there ({exc.strerror}); pass --host 127.0.0.1 "
                "(this machine) or 0.0.0.0 (every network)"
            ) from exc


FOLDER_PREFIX = "facial-emotion-app-"
_MADE_HERE: set[str] = set()  # this process's own folders' names: see remove_left_behind


def folder_prefix(pid: int | None = None) -> str:
    """The private folder's name up to its random part: it names the app's process, so the next
    app can tell a folder whose app was killed outright (its photos stayed on disk)."""
    return f"{FOLDER_PREFIX}{os.getpid() if pid is None else pid}-"


def remove_left_behind(temp: Path) -> None:
    """Remove this user's private folders whose app no longer runs: one killed by ``kill -9`` or
    the out-of-memory killer left its uploads, people's faces, in the temporary folder. POSIX
    only: on Windows ``os.kill(pid, 0)`` would end the process, not ask after it."""
    if os.name != "posix":
        return
    for folder in temp.glob(f"{FOLDER_PREFIX}*-*"):
        pid = folder.name[len(FOLDER_PREFIX) :].split("-", 1)[0]
        try:
            # ASCII digits of a possible process id: "²" passed isdigit() and int() stopped the app
            if not re.fullmatch("[0-9]{1,9}", pid) or folder.is_symlink():
                continue
            if folder.stat().st_uid != os.getuid():
                continue
            if int(pid) == os.getpid():
                # not this process's: an earlier one with its id, as an app killed outright in
                # a container restarts as PID 1 again, its /tmp kept (Docker's restart policy, a
                # Kubernetes volume), where the uploads stayed through every restart
                if folder.name not in _MADE_HERE:
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            os.kill(int(pid), 0)  # raises when no such process runs
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # another user's process, or a folder that went meanwhile
            continue


def writable_temp_folder() -> Path:
    """The temporary folder the uploads go in; where there is none (a container whose disks are
    all read-only), an error that says which setting gives one, where Python's said only "No
    usable temporary directory found in [...]" (as Gradio's import fails then, the command asks
    before importing it)."""
    try:
        return Path(tempfile.gettempdir())
    except FileNotFoundError as exc:
        raise FacialEmotionError(
            f"{exc.strerror}: the app keeps uploads in a temporary folder; set TMPDIR or "
            "GRADIO_TEMP_DIR to a writable folder (in a container whose disks are read-only, a "
            "volume mounted at /tmp)"
        ) from exc


def serve(
    recognizer: Recognizer,
    host: str = "127.0.0.1",
    port: int = 7860,
    allowed_hosts: Sequence[str] = (),
) -> None:
    """Serve the app on ``host:port`` until interrupted (Gradio's own banner offers a share link,
    which this app never makes, so it is kept quiet). Requests must name an IP address, this
    machine or one of ``allowed_hosts`` as their host. Uploads are kept in a private folder,
    removed when it stops, unless ``GRADIO_TEMP_DIR`` names one."""
    require_free_address(host, port)
    for setting in WIDENING_SETTINGS:  # GRADIO_ALLOWED_PATHS=x served every file in x
        os.environ.pop(setting, None)
    with contextlib.ExitStack() as stack:
        if not os.environ.get("GRADIO_TEMP_DIR"):
            remove_left_behind(writable_temp_folder())
            cache = stack.enter_context(tempfile.TemporaryDirectory(prefix=folder_prefix()))
            _MADE_HERE.add(os.path.basename(cache))
            os.environ["GRADIO_TEMP_DIR"] = cache
            stack.callback(os.environ.pop, "GRADIO_TEMP_DIR")  # before the folder goes
        # Gradio also serves every file under ./.gradio/cached_examples, links followed: a link
        # planted there in a shared folder published whatever it pointed at
        os.environ["GRADIO_EXAMPLES_CACHE"] = os.path.join(
            os.environ["GRADIO_TEMP_DIR"], "examples"
        )
        stack.callback(os.environ.pop, "GRADIO_EXAMPLES_CACHE")
        require_gradio_imports()  # here, not before: its import fixes its temporary folder
        _serve(build_app(recognizer), host, port, [host, *allowed_hosts])


def require_gradio_imports() -> None:
    """Import Gradio, or say in one line that it is installed but broken. The command finds it
    without importing it, so a Gradio whose own import fails (a dependency upgraded past what
    it supports) ended in a traceback here, where it was told to install the app's extra."""
    try:
        import gradio  # noqa: F401
    except ImportError as exc:
        raise FacialEmotionError(
            f"the app needs Gradio, which is installed but fails to import ({exc}); reinstall "
            "it: pip install --force-reinstall 'facial-emotion[app]' (or pip install -r "
            "requirements.txt in a clone)"
        ) from exc


def _serve(app: Any, host: str, port: int, allowed_hosts: list[str]) -> None:
    import gradio as gr
    from starlette.middleware import Middleware

    from facial_emotion.app_guard import RequestGuard

    app.queue(max_size=MAX_QUEUE, default_concurrency_limit=1)
    try:
        app.launch(
            server_name=host,
            server_port=port,
            share=False,
            quiet=True,
            prevent_thread_lock=True,
            max_file_size=MAX_UPLOAD,
            app_kwargs={
                "middleware": [
                    Middleware(
                        RequestGuard,
                        allowed_hosts=allowed_hosts,
                        uploads=os.environ["GRADIO_TEMP_DIR"],
                    )
                ]
            },
            enable_monitoring=False,
            mcp_server=False,
            ssr_mode=False,
            # Gradio keeps every run, photos and readings, in the browser, where the next
            # person at a shared computer saw them, and offers to copy them to a Hugging Face
            # bucket; and its footer's links mean nothing to the people the page is for.
            run_history=False,
            footer_links=["settings"],
            js=LIVE_SUMMARY,
            theme=page_theme(),
            i18n=gr.I18n(en=PAGE_TEXT),
        )
    except OSError as exc:  # taken between the check and the launch
        raise FacialEmotionError(
            f"{host}:{port}: cannot serve the app there ({exc}); pass a free --port"
        ) from exc
    # 0.0.0.0 is where the app listens, not an address to open (browsers refuse it)
    shown = "127.0.0.1" if host == "0.0.0.0" else host
    elsewhere = ", or this machine's network address from others" if host == "0.0.0.0" else ""
    print(
        f"facial-emotion app: open http://{shown}:{port}{elsewhere} (Ctrl+C stops it)", flush=True
    )
    try:
        app.block_thread()
    except OSError as exc:
        # Gradio says on stdout that it closes after a stop, then closes: a terminal that hung up
        # (SIGHUP) takes no line, and the app ended with a traceback, its server still open
        if not isinstance(exc.__context__, KeyboardInterrupt):
            raise
        app.close()
