"""Calendar feed links: a long-lived, read-only, revocable secret URL for one unit's or
endpoint's calendar, for calendar apps that cannot sign in.

A link reads with the rights its creator had when making it, and dies at once when it is
deleted, or when its creator's sign-ins are revoked (disabled, password reset, "sign out
everywhere"), since it counts as a sign-in made when the link was.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Literal, Protocol

from hnth_kit.auth import Principal, Revocations, Role
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.refusal import Refusal
from registration.usecases.meetings import Feed, Meetings

FeedKind = Literal["unit", "endpoint"]

NO_SUCH_FEED = (
    "Không có liên kết lịch này (hoặc đã bị thu hồi).",
    "No such feed link (or revoked).",
)


class FeedRows(Protocol):
    async def add(self, feed: Document) -> None: ...
    async def get(self, feed_id: str) -> Document | None: ...
    async def of(self, tenant: str, subject: str | None) -> list[Document]: ...
    async def remove(self, feed_id: str) -> None: ...


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Feeds:
    def __init__(
        self, rows: FeedRows, meetings: Meetings, revocations: Revocations, clock: Clock
    ) -> None:
        self.rows, self.meetings, self.revocations, self.clock = rows, meetings, revocations, clock

    async def create(self, who: Principal, kind: FeedKind, code: str) -> tuple[Document, str]:
        """A new link (the row, and the secret that goes in its URL once)."""
        await self.meetings.feed(who, f"{kind}s", code)  # 403/404 as reading it now would
        secret = secrets.token_urlsafe(32)
        row = {
            "_id": secrets.token_hex(8),
            "secret_hash": _digest(secret),
            "tenant": who.tenant,
            "kind": kind,
            "code": code,
            "subject": who.subject,
            "role": who.role.value,
            "unit": who.unit,
            "endpoints": list(who.endpoints),
            "created_at": self.clock.now(),
        }
        await self.rows.add(row)
        return _shown(row), secret

    async def listed(self, who: Principal) -> list[Document]:
        """A person's own links; an operator sees every link of the province."""
        mine = None if who.role is Role.OPERATOR else who.subject
        return [_shown(row) for row in await self.rows.of(who.tenant, mine)]

    async def delete(self, who: Principal, feed_id: str) -> None:
        row = await self.rows.get(feed_id)
        if row is None or row["tenant"] != who.tenant:
            raise Refusal(404, "not_found", *NO_SUCH_FEED)
        if who.role is not Role.OPERATOR and row["subject"] != who.subject:
            raise Refusal(404, "not_found", *NO_SUCH_FEED)
        await self.rows.remove(feed_id)

    async def read(self, feed_id: str, secret: str) -> tuple[Feed, str, str]:
        """The calendar a valid link shows, the province it belongs to, and the unit's or
        endpoint's code it is the calendar of (a calendar app names it so)."""
        row = await self.rows.get(feed_id)
        if row is None or not hmac.compare_digest(row["secret_hash"], _digest(secret)):
            raise Refusal(404, "not_found", *NO_SUCH_FEED)
        reader = Principal(
            subject=row["subject"],
            role=Role(row["role"]),
            tenant=row["tenant"],
            unit=row["unit"],
            endpoints=tuple(row["endpoints"]),
            issued_at=row["created_at"],
        )
        if self.revocations.refuses(reader):
            raise Refusal(404, "not_found", *NO_SUCH_FEED)
        feed = await self.meetings.feed(reader, f"{row['kind']}s", row["code"])
        return feed, row["tenant"], row["code"]


def _shown(row: Document) -> Document:
    """A link as its owner sees it: never the secret's hash."""
    return {"id": row["_id"]} | {k: v for k, v in row.items() if k not in ("_id", "secret_hash")}
