"""``facial-emotion app``: the local web app on this machine only, unless --host says otherwise."""

from __future__ import annotations

import argparse
import importlib.util
import os

from facial_emotion.cli.options import (
    add_detect_size_option,
    add_detector_option,
    add_min_confidence_option,
    add_model_option,
    detector_options,
    port_number,
)
from facial_emotion.errors import FacialEmotionError


def host_name(text: str) -> str:
    """An argparse type for a name the app is reached by, as a browser's Host header gives it
    (non-ASCII in its IDNA form): a port, a scheme or a wildcard never matched one, and every
    request was then refused with advice to pass --allowed-host."""
    name = text.strip().lower().rstrip(".")
    if not name or any(c in name for c in "/\\@*:[] ?#"):
        raise argparse.ArgumentTypeError(
            f"pass a host name alone, such as proxy.example, not {text!r} (no scheme, port, "
            "path or wildcard)"
        )
    if name.isascii():  # as browsers send it: "web_app" (a Docker service) fails IDNA 2008
        return name
    import idna  # Python's own "idna" codec maps as IDNA 2003 did: faß.de to fass.de, where
    # browsers send xn--fa-hia.de (UTS #46, non-transitional)

    try:
        return idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid host name") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to serve on (default: this machine only); 0.0.0.0 serves every network, "
        "and the app has no login: anyone who reaches it can use it",
    )
    parser.add_argument(
        "--allowed-host",
        type=host_name,
        action="append",
        default=[],
        metavar="NAME",
        help="a name the app is reached by besides this machine's name and IP addresses, such "
        "as a proxy's (repeat for more); requests for other names are refused, so that a web "
        "page cannot rename itself to this machine (DNS rebinding)",
    )
    parser.add_argument(
        "--port", type=port_number, default=7860, help="port to serve on (default: %(default)s)"
    )
    add_model_option(parser)
    add_detector_option(parser)
    add_detect_size_option(parser, "1024")
    add_min_confidence_option(parser)


def run(args: argparse.Namespace) -> int:
    from facial_emotion.app_server import require_free_address, serve, writable_temp_folder

    # at once: after importing Gradio and loading the model, a busy port took 8 s to report
    require_free_address(args.host, args.port)
    if not os.environ.get("GRADIO_TEMP_DIR"):
        writable_temp_folder()  # before Gradio, whose import fails without one
    # before the model loads: a wheel installed without its [app] extra has no Gradio. Found,
    # not imported: Gradio fixes its temporary folder on import, and imported before serve names
    # the app's private one it made $TMPDIR/gradio (a folder another user's Gradio cannot write)
    try:
        missing = importlib.util.find_spec("gradio") is None
    except ValueError:  # sys.modules holds None for it: its import is blocked
        missing = True
    if missing:
        raise FacialEmotionError(
            "the app needs Gradio, which is not installed: pip install 'facial-emotion[app]' "
            "(or pip install -r requirements.txt in a clone)"
        )
    from facial_emotion.faces import make_detector
    from facial_emotion.predict import EmotionRecognizer

    detector = make_detector(args.detector, **detector_options(args, {}))
    recognizer = EmotionRecognizer(
        model=args.model, detector=detector, min_confidence=args.min_confidence
    )
    serve(recognizer, args.host, args.port, args.allowed_host)
    return 0
