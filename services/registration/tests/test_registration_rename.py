"""A province renamed (thua-thien-hue -> hue) on the real broker and database: its
meetings and directory move under the new code, and the old links keep working: a
calendar feed with a token of the old code, a secret feed link, an operator's token of
the old code; the rename is recorded once however often it is asked for."""

from __future__ import annotations

from pathlib import Path

from registration_samples import meeting_body

from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import eventually

OLD, NEW = "thua-thien-hue", "hue"


async def test_a_renamed_province_keeps_its_meetings_links_and_feeds(
    tmp_path: Path, start_registration
) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    for file in (REPO_ROOT / "policies").glob("*.yaml"):
        (policies / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    text = (policies / f"{OLD}.yaml").read_text(encoding="utf-8")
    (policies / f"{NEW}.yaml").write_text(text.replace(f"tenant: {OLD}", f"tenant: {NEW}"))

    async with start_registration(policy_dir=policies) as registration:
        http = registration.http
        old = registration.headers("operator", tenant=OLD)
        body = meeting_body(main_endpoint="TTH-UBND", endpoints=["TTH-SNV"])
        created = await http.post("/meetings", json=body, headers=old)
        assert created.status_code == 201, created.text
        meeting_id = created.json()["id"]
        link = await http.post(
            "/calendar/feeds", json={"kind": "unit", "code": "VP-UBND"}, headers=old
        )
        assert link.status_code == 201, link.text
        secret_url = link.json()["url"].removeprefix("http://registration")
        token = old["Authorization"].removeprefix("Bearer ")

        new = registration.headers("operator", tenant=NEW)
        # a rename is the renamed province's own to ask
        refused = await http.post(f"/tenants/{OLD}/rename", json={"into": NEW}, headers=new)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "tenant.both_agree"
        renamed = await http.post(f"/tenants/{OLD}/rename", json={"into": NEW}, headers=old)
        assert renamed.status_code == 202, renamed.text
        assert renamed.json()["units"] == {}  # the new code had nothing: no code collides
        again = await http.post(f"/tenants/{OLD}/rename", json={"into": NEW}, headers=new)
        assert again.status_code == 200, again.text
        other = await http.post(f"/tenants/{OLD}/merge", json={"into": "lang-son"}, headers=new)
        assert other.status_code in (403, 409), other.text

        await eventually(
            lambda: http.get(f"/tenant-changes/{OLD}", headers=new),
            until=lambda r: r.status_code == 200 and r.json()["done"],
            timeout=90,
        )
        shown = (await http.get(f"/meetings/{meeting_id}", headers=new)).json()
        assert (shown["tenant"], shown["title"]) == (NEW, body["title"])
        endpoints = (await http.get("/endpoints", headers=new)).json()
        assert "TTH-UBND" in {e["code"] for e in endpoints}

        # old links: the operator's token of the old code, a feed with it, a secret link
        listed = (await http.get("/meetings", headers=old)).json()["items"]
        assert [m["id"] for m in listed] == [meeting_id]
        feed = await http.get(f"/calendar/units/VP-UBND.ics?token={token}")
        assert feed.status_code == 200, feed.text
        assert meeting_id in feed.text
        secret = await http.get(secret_url)
        assert secret.status_code == 200, secret.text
        assert meeting_id in secret.text


async def test_a_merge_asked_by_one_province_alone_moves_nothing(start_registration) -> None:
    """Tuyên Quang's IT department asks that Lạng Sơn joins it: recorded as asked, with
    what it would rename, and nothing moves until Lạng Sơn's asks too; a third province
    may not ask at all."""
    async with start_registration() as registration:
        http = registration.http
        lang_son = registration.headers("operator", tenant="lang-son")
        before = await http.get("/units", headers=lang_son)
        assert before.status_code == 200, before.text
        outsider = registration.headers("operator", tenant="ho-chi-minh")
        refused = await http.post(
            "/tenants/lang-son/merge", json={"into": "tuyen-quang"}, headers=outsider
        )
        assert refused.status_code == 403, refused.text

        taker = registration.headers("operator", tenant="tuyen-quang")
        asked = await http.post(
            "/tenants/lang-son/merge", json={"into": "tuyen-quang"}, headers=taker
        )
        again = await http.post(
            "/tenants/lang-son/merge", json={"into": "tuyen-quang"}, headers=taker
        )
        for answer in (asked, again):
            assert answer.status_code == 202, answer.text
            assert answer.json()["waiting_for"] == "lang-son"
        assert "VP-UBND" in asked.json()["units"]  # what it would rename: both have one
        after = await http.get("/units", headers=lang_son)  # Lạng Sơn's tokens still work
        assert after.status_code == 200, after.text
        assert after.json() == before.json()
        missing = await http.get("/tenants/lang-son/change", headers=taker)
        assert missing.status_code == 404, missing.text
