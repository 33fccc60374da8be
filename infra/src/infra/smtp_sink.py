"""A local SMTP catcher for demos on machines without Docker, and the compose test's
stand-in for Mailpit (image `hnth/mail`, built by `make images`).

Every message received is kept as an .eml file; a small web page lists them, and
`/messages.json` gives every message's headers (what the compose test reads).

    python -m infra.smtp_sink --port 1025 --web-port 8025 --dir .run/stack/mail
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import time
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

from aiosmtpd.controller import Controller


class MaildirHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.time_ns()}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def _header(value: str | None) -> str:
    return str(make_header(decode_header(value or "")))


def _page(folder: Path) -> bytes:
    rows = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:200]:
        msg = message_from_bytes(path.read_bytes())
        cells = (_header(msg["Date"]), _header(msg["To"]), _header(msg["Subject"]))
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    body = (
        "<!doctype html><meta charset=utf-8><title>HNTH Ops: thư đã gửi / sent mail</title>"
        "<h1>Thư đã gửi / Sent mail</h1><table border=1 cellpadding=4>"
        "<tr><th>Ngày / Date</th><th>Người nhận / To</th><th>Tiêu đề / Subject</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return body.encode()


def _headers(folder: Path) -> bytes:
    found = []
    for path in sorted(folder.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes())
        found.append({name: _header(value) for name, value in msg.items()})
    return json.dumps(found, ensure_ascii=False).encode()


def serve_web(folder: Path, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            as_json = self.path.startswith("/messages.json")
            data = _headers(folder) if as_json else _page(folder)
            self.send_response(200)
            kind = "application/json" if as_json else "text/html; charset=utf-8"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Page)
    Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    # in a container HNTH_HTTP_HOST is 0.0.0.0 (the Dockerfile); on a machine, loopback
    parser.add_argument("--host", default=os.environ.get("HNTH_HTTP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=1025)
    # in a container its web page is the image's HTTP port (health checks ask it)
    parser.add_argument("--web-port", type=int, default=os.environ.get("HNTH_HTTP_PORT", 8025))
    parser.add_argument("--dir", type=Path, default=Path(".run/mail"))
    args = parser.parse_args()
    controller = Controller(MaildirHandler(args.dir), hostname=args.host, port=args.port)
    controller.start()
    serve_web(args.dir, args.web_port, args.host)
    print(
        f"smtp sink on {args.host}:{args.port}, web on http://{args.host}:{args.web_port}/",
        flush=True,
    )
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
