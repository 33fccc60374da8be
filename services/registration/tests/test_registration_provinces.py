"""Provinces on one platform: every policy file has every rule, every directory file loads,
two provinces registering side by side never see each other's data, and a fourth one is
two files and no code."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from registration_samples import NOW, meeting_body

from hnth_contracts import COMMUNE_LEVEL
from hnth_contracts.policy import load_policy
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import eventually
from registration.directory import read_directories

POLICIES = REPO_ROOT / "policies"
PROVINCES = sorted(p.stem for p in POLICIES.glob("*.yaml"))


def test_the_shipped_provinces_each_have_a_policy_and_a_directory() -> None:
    assert {"lang-son", "thua-thien-hue", "tuyen-quang", "lao-cai", "ho-chi-minh"} <= set(PROVINCES)
    assert sorted(f.tenant for f in read_directories(REPO_ROOT / "data")) == PROVINCES


@pytest.mark.parametrize("tenant", PROVINCES)
def test_every_policy_has_the_same_rules_each_citing_its_source(tenant: str) -> None:
    reference = load_policy(POLICIES, "tuyen-quang")
    policy = load_policy(POLICIES, tenant)
    assert policy.tenant == tenant
    assert set(policy.rules) == set(reference.rules)
    # the file names its own regulation and how sources title it (the source checks below)
    assert policy.regulation in policy.seed_titles, tenant
    for name in policy.rules:
        assert policy.ref(name).source, (tenant, name)  # RuleRef keeps sources to 256 chars
    # the values services parse must parse in every province
    for name in ("notice.lead_time", "check.lead_time", "meeting_record.due_after"):
        assert policy.duration(name) > timedelta(0)
    assert int(policy.value("materials.max_bytes")) > 0
    assert "application/pdf" in policy.value("materials.types")


# ---------------------------------------------------------------- sources against the seeds

SEEDS = REPO_ROOT.parent / "shared" / "seeds"
"""The regulations' texts: `../shared/seeds/` next to the repository (CI clones main next to
a `shared` link; a worktree has one beside it too)."""


def declared(tenant: str) -> tuple[str | None, dict[str, tuple[str, ...]]]:
    """What the province's policy file declares of its sources: the seed of its own
    regulation (every source names it, if only to say it is silent) and how a source names
    each seed besides its file (`regulation`, `seed_titles`)."""
    policy = load_policy(POLICIES, tenant)
    return policy.regulation, policy.seed_titles


QUOTED = re.compile(r"„([^“]+)“|“([^”]+)”|\"([^\"]+)\"|'([^']+)'")
CITED = re.compile(r"seeds/(\d{3})|Điều (\d+)|mục ([IVX]+)(?:\.(\d+))?")
DEFAULT = re.compile(r"mặc định|default", re.IGNORECASE)
REASON = re.compile(r"\b(vì|để|nhằm|because|so that)\b", re.IGNORECASE)
SILENT = re.compile(r"không (quy định|nêu)|is silent|does not say", re.IGNORECASE)


def normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


@dataclass(frozen=True)
class Seed:
    """One seed file: its whole text, and the parts a source may cite by article
    (`Điều 3`) or section (`mục I`, `mục II.2`)."""

    text: str
    parts: dict[str, str]

    @classmethod
    def read(cls, path: Path) -> Seed:
        raw = path.read_text(encoding="utf-8")
        parts: dict[str, list[str]] = {}
        roman = ""  # the section (I, II, ...) the current line is in
        keys: tuple[str, ...] = ()  # the parts the current line belongs to
        for line in map(normal, raw.splitlines()):
            if m := re.match(r"Điều (\d+)\. ", line):
                keys = (f"Điều {m[1]}",)
            elif m := re.match(r"([IVX]+)\. ", line):
                roman, keys = m[1], (f"mục {m[1]}",)
            elif roman and (m := re.match(r"(\d+)\. ", line)):
                keys = (f"mục {roman}", f"mục {roman}.{m[1]}")
            elif not line:  # an article or item is one paragraph; a section runs on
                keys = (f"mục {roman}",) if roman else ()
            for key in keys:
                parts.setdefault(key, []).append(line)
        return cls(normal(raw), {k: " ".join(v) for k, v in parts.items()})


def seeds() -> dict[str, Seed]:
    found = {p.name[:3]: Seed.read(p) for p in sorted(SEEDS.glob("[0-9][0-9][0-9]_*.txt"))}
    assert found, f"no seeds in {SEEDS}: clone next to ../shared (see README)"
    return found


def source_problems(tenant: str, source: str, known: dict[str, Seed]) -> list[str]:
    """What is wrong with one rule's `source`: its citations (below), and it either quotes
    its regulation or says it applies a default, that the regulation is silent, and why."""
    source = normal(source)
    problems = citation_problems(tenant, source, known)
    if DEFAULT.search(source):
        if not REASON.search(source):
            problems.append("a default must say why (vì / để / because ...)")
        if not SILENT.search(source):
            problems.append("a default must say the regulation is silent (không quy định/nêu)")
    elif not QUOTED.search(source):
        problems.append("quote the regulation („...“) or say which default applies and why")
    return problems


def citation_problems(tenant: str, source: str, known: dict[str, Seed]) -> list[str]:
    """What is wrong with a text's citations, checked against the seeds' texts:
    - it cites seeds that exist, each by its document's name, and the province's own one;
    - an article or section it cites (`Điều 3`, `mục II.2`) exists in the seed cited before it;
    - words in quotes are that seed's (that article's, section's) words verbatim."""
    source = normal(source)
    problems: list[str] = []
    own, titles = declared(tenant)
    if "quy chế mẫu" in source.lower():
        problems.append("no seed is a 'quy chế mẫu': name the regulation")
    # where each quote comes from: the seed cited last before it, and the article or
    # section cited after that seed and before the quote
    places: list[tuple[int, str, str | None]] = []
    seed: str | None = None
    for m in CITED.finditer(source):
        if m[1]:
            seed, part = m[1], None
            if seed not in known:
                problems.append(f"seeds/{seed} does not exist in {SEEDS}")
            elif not all(w in source and w in known[seed].text for w in titles.get(seed, "?")):
                problems.append(f"seeds/{seed} must be named by its title {titles.get(seed)}")
        else:
            part = f"Điều {m[2]}" if m[2] else f"mục {m[3]}" + (f".{m[4]}" if m[4] else "")
            if seed is None:
                seed = next((s for s in CITED.findall(source, m.end()) if s[0]), ("",))[0]
            if seed in known and part not in known[seed].parts:
                problems.append(f"seeds/{seed} has no {part}")
        places.append((m.start(), seed or "", part))
    cited = {s for _, s, _ in places if s}
    if not cited:
        problems.append("cites no seed (seeds/NNN)")
    if own and own not in cited:
        problems.append(f"does not name the province's own regulation, seeds/{own}")
    for m in QUOTED.finditer(source):
        quote = normal(next(g for g in m.groups() if g))
        before = [(s, p) for at, s, p in places if at < m.start()]
        where, part = before[-1] if before else (min(cited, default=""), None)
        text = known[where].parts.get(part or "", known[where].text) if where in known else ""
        if quote not in text:
            problems.append(f"„{quote}“ is not in seeds/{where} {part or ''}".rstrip())
    return problems


@pytest.mark.parametrize("tenant", PROVINCES)
def test_every_source_quotes_its_seed_verbatim_or_says_which_default_and_why(
    tenant: str,
) -> None:
    known = seeds()
    policy = load_policy(POLICIES, tenant)
    sources = {name: rule.source for name, rule in policy.rules.items()}
    # a rejection for capacity cites the bridge's source (rule `bridge.ports`)
    sources |= {f"bridge {b.name}": b.source for b in policy.all_bridges}
    problems = {
        name: found
        for name, text in sources.items()
        if (found := source_problems(tenant, text, known))
    }
    assert problems == {}


@pytest.mark.parametrize("tenant", PROVINCES)
def test_every_policy_says_which_area_its_regulation_covers_and_why_it_applies(
    tenant: str,
) -> None:
    # the regulations predate the mergers of 2025: each policy says where its own one was
    # written for and why HNTH Ops applies it to the province as it is now
    coverage = load_policy(POLICIES, tenant).coverage
    assert coverage, tenant
    assert REASON.search(coverage), tenant
    assert citation_problems(tenant, coverage, seeds()) == []


def test_every_directory_file_quotes_its_seed_verbatim() -> None:
    known = seeds()
    problems = {
        data.tenant: found
        for data in read_directories(REPO_ROOT / "data")
        if (found := citation_problems(data.tenant, data.source, known))
    }
    assert problems == {}


def test_the_source_check_catches_what_a_review_would() -> None:
    known = seeds()
    good = (
        "Quy chế HNTH Lạng Sơn 2013 (seeds/000): thông báo bằng văn bản "
        "„ít nhất 2 ngày trước khi tiến hành cuộc họp chính thức“"
    )
    assert source_problems("lang-son", good, known) == []
    invented = good.replace("2 ngày", "3 ngày")
    assert source_problems("lang-son", invented, known) == [
        "„ít nhất 3 ngày trước khi tiến hành cuộc họp chính thức“ is not in seeds/000"
    ]
    # seeds/001 is a summary: it has no articles; a quote from another seed is not its
    wrong_seed = "QĐ 345/QĐ-UBND 2017 (seeds/001), Điều 7: „ít nhất 2 ngày trước khi“"
    assert source_problems("tuyen-quang", wrong_seed, known) == [
        "seeds/001 has no Điều 7",
        "„ít nhất 2 ngày trước khi“ is not in seeds/001 Điều 7",
    ]
    # QĐ 1270's mục I.1 is about purpose; its words are not mục I.4's
    wrong_part = "QĐ 1270/QĐ-UBND 2020 (seeds/003) mục I.4: „chỉ để phục vụ công tác chỉ đạo“"
    assert source_problems("thua-thien-hue", wrong_part, known) == [
        "„chỉ để phục vụ công tác chỉ đạo“ is not in seeds/003 mục I.4"
    ]
    assert source_problems("thua-thien-hue", wrong_part.replace("I.4", "I.1"), known) == []
    assert "no seed is a 'quy chế mẫu': name the regulation" in source_problems(
        "tuyen-quang", "quy chế mẫu (seeds/000): QĐ 345/QĐ-UBND (seeds/001) không nêu", known
    )
    assert source_problems(
        "tuyen-quang", "mặc định HNTH Ops: QĐ 345/QĐ-UBND 2017 (seeds/001) không nêu", known
    ) == ["a default must say why (vì / để / because ...)"]
    assert source_problems(
        "tuyen-quang", "QĐ 345/QĐ-UBND 2017 (seeds/001): Sở TT&TT quản trị", known
    ) == ["quote the regulation („...“) or say which default applies and why"]
    assert source_problems("lang-son", "mặc định HNTH Ops vì (seeds/001) không nêu", known) == [
        "seeds/001 must be named by its title ('345/QĐ-UBND',)",
        "does not name the province's own regulation, seeds/000",
    ]


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
    # each province's endpoints share one prefix (TQ-, LS-, TTH-), no two provinces the same
    prefixes = {f.tenant: f.endpoints[0].code.split("-")[0] + "-" for f in files}
    assert len(set(prefixes.values())) == len(files)
    seen: set[str] = set()
    for data in files:
        units = {u.code for u in data.units}
        kinds = [u.kind for u in data.units]
        assert kinds.count("department") >= 15
        assert sum(k in COMMUNE_LEVEL for k in kinds) >= 7  # two tiers: no district level
        assert "district" not in kinds
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
        endpoints=["LS-STTTT", "LS-X-DINHLAP"],
        document_number="125/VP-HCTC",  # Lạng Sơn registers with an official letter
        document_date=NOW.date().isoformat(),
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


async def test_a_fourth_province_is_a_policy_file_and_a_directory_file(
    tmp_path: Path, start_registration
) -> None:
    """A made-up province, copied from Tuyên Quang with its own tenant and endpoint prefix,
    in policy and data folders beside the shipped ones: registration starts, loads its
    directory and registers its meetings, and the shipped provinces are as before."""
    policies, data = tmp_path / "policies", tmp_path / "data"
    for folder, shipped in ((policies, POLICIES), (data, REPO_ROOT / "data")):
        folder.mkdir()
        for file in shipped.glob("*.yaml"):
            (folder / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
        text = (shipped / "tuyen-quang.yaml").read_text(encoding="utf-8")
        made_up = text.replace("tenant: tuyen-quang", "tenant: bien-dong").replace("TQ-", "BD-")
        (folder / "bien-dong.yaml").write_text(made_up, encoding="utf-8")

    async with start_registration(policy_dir=policies, directory_dir=data) as registration:
        http = registration.http
        new = registration.headers("operator", tenant="bien-dong")
        body = meeting_body(main_endpoint="BD-UBND", endpoints=["BD-STTTT", "BD-H-SONDUONG"])
        created = await http.post("/meetings", json=body, headers=new)
        assert created.status_code == 201, created.text
        assert created.json()["tenant"] == "bien-dong"
        codes = {e["code"] for e in (await http.get("/endpoints", headers=new)).json()}
        assert len(codes) == 28
        assert all(c.startswith("BD-") for c in codes)
        assert (await http.get("/meetings", headers=new)).json()["items"][0]["id"] == (
            created.json()["id"]
        )
        # a registrar of the new province registers for its own unit the same way
        registrar = registration.headers("registrar", tenant="bien-dong", unit="VP-UBND")
        later = meeting_body(days_ahead=4, main_endpoint="BD-UBND", endpoints=["BD-SYT"])
        second = await http.post("/meetings", json=later, headers=registrar)
        assert second.status_code == 201, second.text

        for tenant, prefix in (
            ("tuyen-quang", "TQ-"),
            ("lang-son", "LS-"),
            ("thua-thien-hue", "TTH-"),
        ):
            auth = registration.headers("operator", tenant=tenant)
            assert (await http.get("/meetings", headers=auth)).json()["items"] == []
            theirs = (await http.get("/endpoints", headers=auth)).json()
            assert theirs
            assert all(e["code"].startswith(prefix) for e in theirs)
            crossed = await http.post("/meetings", json=body, headers=auth)
            assert {e["rule"] for e in crossed.json()["errors"]} >= {"directory.endpoint_active"}
        tq = registration.headers("operator", tenant="tuyen-quang")
        assert (await http.post("/meetings", json=meeting_body(), headers=tq)).status_code == 201


async def test_lang_son_registers_with_its_official_letter_and_tuyen_quang_need_not(
    registration,
) -> None:
    """Rule 1 as a knob: Lạng Sơn's regulation has the host unit notify in writing, so a
    registration there names the letter (số, ngày công văn); Tuyên Quang's does not."""
    http = registration.http
    ls = registration.headers("operator", tenant="lang-son")
    body = meeting_body(main_endpoint="LS-UBND", endpoints=["LS-STTTT"])
    refused = await http.post("/meetings", json=body, headers=ls)
    assert refused.status_code == 422, refused.text
    errors = {e["field"]: e for e in refused.json()["errors"]}
    assert set(errors) == {"document_number", "document_date"}
    assert {e["rule"] for e in errors.values()} == {"registration.official_letter"}
    assert "seeds/000" in errors["document_number"]["source"]
    tomorrow = (NOW + timedelta(days=2)).date().isoformat()
    future = await http.post(
        "/meetings",
        json={**body, "document_number": "125/VP-HCTC", "document_date": tomorrow},
        headers=ls,
    )
    assert future.status_code == 422, future.text
    [dated] = future.json()["errors"]
    assert (dated["field"], dated["rule"]) == ("document_date", "record.not_in_future")
    assert (await http.get("/meetings", headers=ls)).json()["items"] == []  # nothing stored

    today = NOW.date().isoformat()
    letter = {"document_number": "125/VP-HCTC", "document_date": today}
    created = await http.post("/meetings", json={**body, **letter}, headers=ls)
    assert created.status_code == 201, created.text
    shown = (await http.get(f"/meetings/{created.json()['id']}", headers=ls)).json()
    assert (shown["document_number"], shown["document_date"]) == ("125/VP-HCTC", today)

    tq = registration.headers("operator", tenant="tuyen-quang")
    assert (await http.post("/meetings", json=meeting_body(), headers=tq)).status_code == 201


async def test_tuyen_quang_refuses_an_endpoint_without_its_technician_and_hue_need_not(
    registration,
) -> None:
    """Rule 5 as a knob: QĐ 345 has every endpoint name one technician, so Tuyên Quang's
    directory refuses an active endpoint without one (added, or its technician removed),
    naming the rule and its source, and stores nothing; Huế's regulation is silent."""
    http = registration.http
    tq = registration.headers("operator", tenant="tuyen-quang")
    bare = {"code": "TQ-X-NOTECH", "name": "Điểm cầu xã Không Tên", "unit": "VP-UBND"}
    refused = await http.post("/endpoints", json=bare, headers=tq)
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert (error["field"], error["rule"]) == ("technician", "directory.technician_required")
    assert "seeds/001" in error["source"]
    assert (await http.get("/endpoints/TQ-X-NOTECH", headers=tq)).status_code == 404

    technician = {"name": "Nguyễn Văn Kỹ", "phone": "0207 3822 111"}
    created = await http.post("/endpoints", json={**bare, "technician": technician}, headers=tq)
    assert created.status_code == 201, created.text
    removed = await http.patch("/endpoints/TQ-X-NOTECH", json={"technician": None}, headers=tq)
    assert removed.status_code == 422, removed.text
    assert removed.json()["errors"][0]["rule"] == "directory.technician_required"
    kept = (await http.get("/endpoints/TQ-X-NOTECH", headers=tq)).json()
    assert (kept["technician"]["name"], kept["version"]) == ("Nguyễn Văn Kỹ", 1)
    off = await http.post("/endpoints/TQ-X-NOTECH/deactivate", headers=tq)
    assert off.status_code == 200, off.text  # a room out of use needs no technician

    hue = registration.headers("operator", tenant="thua-thien-hue")
    tablet = {**bare, "code": "TTH-X-NOTECH", "kind": "software"}
    assert (await http.post("/endpoints", json=tablet, headers=hue)).status_code == 201
