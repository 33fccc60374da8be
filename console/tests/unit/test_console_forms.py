"""The console's own small decisions, without I/O: where a redirect may go, what a
registration form asks registration for."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from starlette.datastructures import FormData

from hnth_console.pages.meetings import meeting_body, read_form
from hnth_console.render import safe_next, see_other, with_query

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def test_redirects_stay_on_the_console() -> None:
    assert safe_next("/notices?x=1") == "/notices?x=1"
    assert safe_next("//evil.example/x") == "/"
    assert safe_next("https://evil.example/") == "/"
    assert safe_next("") == "/"


def test_a_query_is_added_after_what_is_already_there() -> None:
    assert with_query("/notices", resent="a@b.vn") == "/notices?resent=a%40b.vn"
    assert with_query("/meetings/m1?x=1", resent="a b") == "/meetings/m1?x=1&resent=a+b"
    response = see_other("/dead-letters", replayed="t:0:1")
    assert response.status_code == 303
    assert response.headers["location"] == "/dead-letters?replayed=t%3A0%3A1"
    assert see_other("/board").headers["location"] == "/board"


def test_the_form_is_trimmed_and_the_ticked_endpoints_kept() -> None:
    form = FormData(
        [("title", "  Giao ban "), ("endpoints", "TQ-B"), ("endpoints", "TQ-C"), ("chair", "C")]
    )
    fields, chosen = read_form(form)
    assert fields["title"] == "Giao ban"
    assert fields["urgent_reason"] == ""
    assert chosen == ["TQ-B", "TQ-C"]


def test_the_meeting_asked_for_starts_in_the_provinces_zone() -> None:
    fields = {
        "title": "T",
        "host_unit": "",
        "chair": "C",
        "start": "2026-12-03 08:00",
        "minutes": "90",
        "main_endpoint": "TQ-A",
        "idempotency_key": "k",
        "urgent_reason": "",
    }
    body = meeting_body(fields, ["TQ-B", "TQ-A", ""], ZONE, "VP-UBND")
    assert body == {
        "title": "T",
        "host_unit": "VP-UBND",  # the person's own unit when the form names none
        "chair": "C",
        "start": "2026-12-03T08:00:00+07:00",
        "end": "2026-12-03T09:30:00+07:00",
        "main_endpoint": "TQ-A",
        "endpoints": ["TQ-A", "TQ-B"],
    }
    urgent = meeting_body({**fields, "urgent_reason": "bão"}, [], ZONE, None)
    assert urgent["urgent_reason"] == "bão"
    letter = {"document_number": "125/VP-HCTC", "document_date": "2026-11-28"}
    lettered = meeting_body({**fields, **letter}, [], ZONE, None)
    assert {k: lettered[k] for k in letter} == letter  # the official letter, when given
    assert meeting_body({**fields, "record": "1"}, [], ZONE, None)["record"] is True
    assert "record" not in body  # not recorded unless ticked
    grouped = meeting_body(fields, [], ZONE, None, ["ALL-COMMUNES"])
    assert grouped["groups"] == ["ALL-COMMUNES"]  # scheduling expands it when deciding
    assert grouped["endpoints"] == ["TQ-A"]
    as_shown = meeting_body({**fields, "start": "03/12/2026 08:00"}, [], ZONE, None)
    assert as_shown["start"] == body["start"]  # the day as every page shows one reads too
    for broken in ({"start": "03/12 08:00"}, {"minutes": "1h"}):
        with pytest.raises(ValueError, match=r"."):
            meeting_body({**fields, **broken}, [], ZONE, None)
