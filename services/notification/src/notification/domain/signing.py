"""Signatures: acknowledgement links, webhook bodies, deterministic Message-IDs."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ack_token(secret: bytes, notice: str) -> str:
    """`<notice id>.<HMAC>` in URL-safe base64: the link is the proof, no login needed."""
    mac = hmac.new(secret, b"ack:" + notice.encode(), hashlib.sha256).digest()
    return f"{_b64(notice.encode())}.{_b64(mac)}"


def verify_ack_token(secret: bytes, token: str) -> str | None:
    """The notice id the token was signed for, or None when it is not ours."""
    head, _, _ = token.partition(".")
    try:
        notice = _unb64(head).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    # as bytes: compare_digest refuses str with non-ASCII characters (TypeError)
    expected = ack_token(secret, notice).encode()
    return notice if hmac.compare_digest(expected, token.encode()) else None


def webhook_signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over `<unix timestamp>.<body>`: the timestamp lets receivers refuse replays."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def message_id(notice: str, domain: str) -> str:
    """Deterministic per notice: a resend after a crash carries the same Message-ID."""
    return f"<{hashlib.sha256(notice.encode()).hexdigest()[:32]}@{domain}>"
