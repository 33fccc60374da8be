"""The dead letters (`.dlq` topics, read from Kafka: they have no HTTP API): listed by
topic, replayed or discarded with a reason, each once. An operator sees and acts on their
own province's letters, and on those that name no province (bytes that are no event: any
province's operator may be the one to deal with them)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from hnth_console import views
from hnth_console.backends import BackendError
from hnth_console.deps import Session, Settings, page
from hnth_console.render import error, render, see_other
from hnth_console.settings import ConsoleSettings
from hnth_kit.dlq import (
    AlreadyResolved,
    DeadLetter,
    dead_letter_topics,
    discard,
    pending,
    province_of,
    read_dead_letters,
    read_resolutions,
    replay,
)

router = APIRouter()
Allowed = Annotated[Session, Depends(page("dead_letters"))]


@router.get("/dead-letters", response_class=HTMLResponse, summary="Thư lỗi / dead letters")
async def dead_letters(
    request: Request,
    s: Allowed,
    settings: Settings,
    replayed: str | None = None,
    discarded: str | None = None,
) -> HTMLResponse:
    found, resolved = await asyncio.gather(
        letters(settings, s.who.tenant),
        read_resolutions(settings.kafka_bootstrap_servers, settings.topic_prefix),
    )
    return render(
        request,
        s,
        "dead_letters.html",
        groups=views.dead_letter_groups(pending(found, resolved)),
        resolved=[(x, resolved[x.ref]) for x in found if x.ref in resolved],
        unattributed={x.ref for x in found if province_of(x, settings.topic_prefix) is None},
        unreadable=views.UNREADABLE_LETTERS,
        replayed=replayed,
        discarded=discarded,
    )


@router.post("/dead-letters/replay", include_in_schema=False)
async def replay_letter(
    request: Request,
    ref: Annotated[str, Form()],
    s: Allowed,
    settings: Settings,
    anyway: Annotated[str, Form()] = "",
) -> Response:
    """Put the letter back on its topic; one no service can read only when the operator
    says the service was upgraded to (it would be dead-lettered again)."""
    letter = await letter_of(settings, s.who.tenant, ref)
    if letter.reason in views.UNREADABLE_LETTERS and not anyway:
        return error(request, s, 422, s.t("replay_unreadable"))
    bootstrap, prefix = settings.kafka_bootstrap_servers, settings.topic_prefix
    await replay(bootstrap, letter, by=s.who.subject, prefix=prefix)
    return see_other("/dead-letters", replayed=ref)


@router.post("/dead-letters/discard", include_in_schema=False)
async def discard_letter(
    request: Request,
    ref: Annotated[str, Form()],
    s: Allowed,
    settings: Settings,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Mark the letter dealt with, without replaying it; a reason is required."""
    if not reason.strip():
        return error(request, s, 422, s.t("reason_required"))
    letter = await letter_of(settings, s.who.tenant, ref)
    bootstrap, prefix = settings.kafka_bootstrap_servers, settings.topic_prefix
    await discard(bootstrap, letter, reason=reason, by=s.who.subject, prefix=prefix)
    return see_other("/dead-letters", discarded=ref)


async def letters(settings: ConsoleSettings, tenant: str) -> list[DeadLetter]:
    """The letters province `tenant`'s operator may see: its own and the unattributed."""
    bootstrap, prefix = settings.kafka_bootstrap_servers, settings.topic_prefix
    every = await read_dead_letters(bootstrap, await dead_letter_topics(bootstrap, prefix))
    return [x for x in every if province_of(x, prefix) in (tenant, None)]


async def letter_of(settings: ConsoleSettings, tenant: str, ref: str) -> DeadLetter:
    """The dead letter `ref` names, still pending (404 unknown or another province's, 409
    already resolved)."""
    found, resolved = await asyncio.gather(
        letters(settings, tenant),
        read_resolutions(settings.kafka_bootstrap_servers, settings.topic_prefix),
    )
    letter = next((x for x in found if x.ref == ref), None)
    if letter is None:
        raise BackendError("kafka", 404, ref)
    if ref in resolved:
        raise AlreadyResolved(resolved[ref])
    return letter
