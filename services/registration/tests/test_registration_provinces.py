"""Three provinces on one platform: every policy file has every rule, every directory file
loads, and two provinces registering side by side never see each other's data."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from registration_samples import meeting_body

from hnth_contracts.policy import load_policy
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import eventually
from registration.directory import read_directories

POLICIES = REPO_ROOT / "policies"
PROVINCES = sorted(p.stem for p in POLICIES.glob("*.yaml"))


def test_three_provinces_ship_a_policy_and_a_directory() -> None:
    assert PROVINCES == ["lang-son", "thua-thien-hue", "tuyen-quang"]
    assert sorted(f.tenant for f in read_directories(REPO_ROOT / "data")) == PROVINCES


@pytest.mark.parametrize("tenant", PROVINCES)
def test_every_policy_has_the_same_rules_each_citing_its_source(tenant: str) -> None:
    reference = load_policy(POLICIES, "tuyen-quang")
    policy = load_policy(POLICIES, tenant)
    assert policy.tenant == tenant
    assert set(policy.rules) == set(reference.rules)
    for name, rule in policy.rules.items():
        assert "seeds/" in rule.source or "HNTH Ops" in rule.source, (tenant, name)
    # the values services parse must parse in every province
    for name in ("notice.lead_time", "check.lead_time", "meeting_record.due_after"):
        assert policy.duration(name) > timedelta(0)
    assert int(policy.value("materials.max_bytes")) > 0
    assert "application/pdf" in policy.value("materials.types")


def test_regulations_are_quoted_where_they_speak() -> None:
    lang_son = load_policy(POLICIES, "lang-son")
    assert "seeds/000" in lang_son.ref("notice.lead_time").source
    assert lang_son.duration("notice.lead_time") == timedelta(days=2)
    assert set(lang_son.value("notice.recipients")) >= {
        "it_department",
        "line_provider",
        "power_company",
    }
    hue = load_policy(POLICIES, "thua-thien-hue")
    assert "1270/QĐ-UBND" in hue.ref("meeting_record.due_after").source
    # where QĐ 1270 is silent, the file says the default and where it comes from
    assert "mặc định" in hue.ref("notice.lead_time").source


def test_directory_files_are_consistent_and_endpoint_codes_never_collide() -> None:
    files = read_directories(REPO_ROOT / "data")
    prefixes = {"tuyen-quang": "TQ-", "lang-son": "LS-", "thua-thien-hue": "TTH-"}
    seen: set[str] = set()
    for data in files:
        units = {u.code for u in data.units}
        kinds = [u.kind for u in data.units]
        assert kinds.count("department") >= 15
        assert kinds.count("district") >= 7
        for endpoint in data.endpoints:
            assert endpoint.code.startswith(prefixes[data.tenant]), endpoint.code
            assert endpoint.unit in units, endpoint.code
            assert endpoint.technician is not None, endpoint.code
            assert endpoint.code not in seen
            seen.add(endpoint.code)
        raw = yaml.safe_load((REPO_ROOT / "data" / f"{data.tenant}.yaml").read_text())
        assert raw["tenant"] == data.tenant


async def test_two_provinces_never_see_each_others_meetings_or_directory(registration) -> None:
    http = registration.http
    tq = registration.headers("operator", tenant="tuyen-quang")
    ls = registration.headers("operator", tenant="lang-son")
    ls_body = meeting_body(
        title="Giao ban trực tuyến UBND tỉnh Lạng Sơn",
        main_endpoint="LS-UBND",
        endpoints=["LS-STTTT", "LS-H-DINHLAP"],
    )
    tq_meeting = (await http.post("/meetings", json=meeting_body(), headers=tq)).json()
    created = await http.post("/meetings", json=ls_body, headers=ls)
    assert created.status_code == 201, created.text
    ls_meeting = created.json()
    assert ls_meeting["tenant"] == "lang-son"
    # waiting for scheduling, with its request on the timeline, it is "requested"
    shown = await eventually(
        lambda: http.get(f"/meetings/{ls_meeting['id']}", headers=ls),
        until=lambda r: len(r.json()["timeline"]) == 1,
    )
    assert shown.json()["status"] == "requested"

    # Lạng Sơn's endpoints are not Tuyên Quang's, and the other way round
    crossed = await http.post("/meetings", json=ls_body, headers=tq)
    assert crossed.status_code == 422
    assert {e["rule"] for e in crossed.json()["errors"]} == {"directory.endpoint_active"}

    for auth, mine, theirs in ((tq, tq_meeting, ls_meeting), (ls, ls_meeting, tq_meeting)):
        listed = (await http.get("/meetings", headers=auth)).json()["items"]
        assert [m["id"] for m in listed] == [mine["id"]]
        assert (await http.get(f"/meetings/{theirs['id']}", headers=auth)).status_code == 404
        patch = await http.patch(f"/meetings/{theirs['id']}", json={"title": "x"}, headers=auth)
        assert patch.status_code == 404
        cancel = await http.post(f"/meetings/{theirs['id']}/cancel", headers=auth)
        assert cancel.status_code == 404

    tq_codes = {e["code"] for e in (await http.get("/endpoints", headers=tq)).json()}
    ls_codes = {e["code"] for e in (await http.get("/endpoints", headers=ls)).json()}
    assert tq_codes
    assert ls_codes
    assert not tq_codes & ls_codes
    assert all(c.startswith("LS-") for c in ls_codes)
    assert (await http.get("/endpoints/TQ-UBND", headers=ls)).status_code == 404
    ls_contacts = (await http.get("/contacts", headers=ls)).json()
    assert ls_contacts["power_company"]["name"] == "Công ty Điện lực Lạng Sơn"

    feed = await http.get("/calendar/units/VP-UBND.ics", headers=ls)
    assert "Lạng Sơn" in feed.text
    assert tq_meeting["id"] not in feed.text
