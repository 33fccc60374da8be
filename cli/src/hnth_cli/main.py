"""`hnth`: one command line for the ops team.

    hnth stack up|down|status        the native stack (Kafka, FerretDB, SMTP sink, services)
    hnth token issue --role ...      a signed bearer token
    hnth dlq list|show|replay        dead letters, per topic, with their reason
    hnth dlq discard REF --reason R  mark one dealt with, without replaying it
    hnth seed demo                   a week of demo meetings through the HTTP API
    hnth report compile --year Y     compile the provincial report, download XLSX and DOCX
    hnth replay --service S --from T rewind a stopped service's consumer group to rebuild
    hnth province merge|rename       a province merged into another, or renamed
    hnth system create|disable       an integrating system's credentials (JSON), or revoke them

Exit codes: 0 done, 1 the operation failed (message on stderr), 2 bad usage;
`dlq discard` and `dlq replay`: 3 the letter was already replayed or discarded (nothing done).
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TransferSpeedColumn,
    track,
)
from rich.table import Table

from hnth_cli import province
from hnth_cli.systems_kafka import kafka_credentials, revoke_kafka_credentials
from hnth_contracts import Topics
from hnth_kit.auth import Role, SigningKeys, issue_token, rotated
from hnth_kit.dlq import (
    AlreadyResolved,
    DeadLetter,
    Resolution,
    dead_letter_topics,
    discard,
    read_dead_letters,
    read_resolutions,
    replay,
)
from hnth_kit.kafka_access import KafkaAccess, from_environment
from hnth_kit.offsets import GroupBusy, NothingToRewind, rewind
from infra import stack

app = typer.Typer(
    help="HNTH Ops operations. Exit codes: 0 done, 1 the operation failed, 2 bad usage.",
    no_args_is_help=True,
    add_completion=False,
)
stack_app = typer.Typer(help="The native stack (no Docker engine needed).", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for the HTTP APIs.", no_args_is_help=True)
dlq_app = typer.Typer(
    help="Dead letters: what could not be processed, and why.", no_args_is_help=True
)
seed_app = typer.Typer(help="Demo data.", no_args_is_help=True)
report_app = typer.Typer(help="The provincial year-end report.", no_args_is_help=True)
account_app = typer.Typer(help="Sign-in accounts (bootstrap).", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(token_app, name="token")
keys_app = typer.Typer(help="The keys registration signs access tokens with.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(dlq_app, name="dlq")
app.add_typer(seed_app, name="seed")
app.add_typer(report_app, name="report")
app.add_typer(account_app, name="account")
system_app = typer.Typer(help="Integrating systems (e-office, calendars).", no_args_is_help=True)
app.add_typer(system_app, name="system")
province_app = typer.Typer(help="Provinces that merge or rename.", no_args_is_help=True)
app.add_typer(province_app, name="province")
SERVICES = ("registration", "scheduling", "notification", "inspection")

out = Console()
err = Console(stderr=True)
RunDir = Annotated[Path, typer.Option(help="Run folder of the native stack.")]
RegistrationUrl = Annotated[
    str, typer.Option(help="Registration service.", envvar="HNTH_REGISTRATION_URL")
]
"""Where registration answers (the console's setting of the same name, when set)."""


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def _state(run_dir: Path) -> stack.StackState | None:
    return stack.load_state(run_dir)


def _bootstrap(run_dir: Path, given: str | None) -> KafkaAccess:
    """The broker, signed in as `HNTH_KAFKA_*` say, or as the local stack's admin."""
    found = given or os.environ.get("HNTH_KAFKA_BOOTSTRAP_SERVERS")
    state = _state(run_dir)
    if found is None and state is not None:
        return state.kafka_admin
    if not found:
        raise fail(
            "no Kafka address: pass --bootstrap, set HNTH_KAFKA_BOOTSTRAP_SERVERS "
            "or run `hnth stack up`"
        )
    return from_environment(found)


def _signing_keys(run_dir: Path) -> SigningKeys:
    """Registration's signing keys: `HNTH_SIGNING_KEYS_FILE`, else the stack's."""
    path = Path(os.environ.get("HNTH_SIGNING_KEYS_FILE") or stack.signing_keys_file(run_dir))
    if not path.exists():
        raise fail(
            f"no signing keys at {path}: set HNTH_SIGNING_KEYS_FILE "
            "(or start the stack, which makes them)"
        )
    return SigningKeys.load(path)


# ---------------------------------------------------------------- stack


@stack_app.command("up")
def stack_up(
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
    fresh: Annotated[bool, typer.Option(help="Discard earlier data first.")] = False,
    services: Annotated[bool, typer.Option(help="Also start the four services.")] = True,
) -> None:
    """Start Kafka, FerretDB, the SMTP sink and the services."""
    try:
        with out.status("Đang khởi động / starting..."):
            state = stack.up(run_dir, services=services, fresh=fresh)
    except stack.StackError as exc:
        raise fail(str(exc)) from None
    table = Table("component", "address")
    for name, url in state.urls.items():
        table.add_row(name, url)
    out.print(table)


@stack_app.command("down")
def stack_down(run_dir: RunDir = stack.DEFAULT_RUN_DIR) -> None:
    """Stop everything `stack up` started."""
    stopped = stack.down(run_dir)
    out.print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@stack_app.command("status")
def stack_status(run_dir: RunDir = stack.DEFAULT_RUN_DIR) -> None:
    """What runs where; exit 1 when something started is no longer running."""
    rows = stack.status(run_dir)
    table = Table("component", "state")
    for name, row in rows.items():
        table.add_row(name, row)
    out.print(table if rows else f"nothing started from {run_dir}")
    if any(row.startswith("stopped") for row in rows.values()):
        raise typer.Exit(1)


# ---------------------------------------------------------------- tokens


KeysFileArg = Annotated[
    Path, typer.Argument(help="The signing keys file (registration's HNTH_SIGNING_KEYS_FILE).")
]


@keys_app.command("generate")
def keys_generate(path: KeysFileArg) -> None:
    """Write a new signing keys file (mode 600); refuses to overwrite one."""
    if path.exists():
        raise fail(f"{path} exists: rotate it with `hnth keys rotate {path}`")
    _write_keys(path, SigningKeys.generate().private())
    print(f"wrote {path}")


@keys_app.command("rotate")
def keys_rotate(path: KeysFileArg) -> None:
    """Add a new key that signs from now on; the previous two still verify, so tokens
    they signed live out their time. Registration rereads the file within 10 s."""
    _write_keys(path, rotated(SigningKeys.load(path).private()))
    print(f"rotated {path}: the new key signs; older tokens verify until they expire")


def _write_keys(path: Path, jwks: dict[str, object]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(jwks), encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)  # atomic: registration never reads half a file


@token_app.command("issue")
def token_issue(
    role: Annotated[Role, typer.Option(help="registrar | operator | technician | viewer")],
    tenant: Annotated[str, typer.Option(help="Province (tenant) code.")] = "tuyen-quang",
    unit: Annotated[str | None, typer.Option(help="Unit code (registrars).")] = None,
    endpoint: Annotated[str | None, typer.Option(help="Endpoint code (technicians).")] = None,
    hours: Annotated[float, typer.Option(help="Validity in hours.")] = 12.0,
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Print a signed token, alone on stdout."""
    try:
        token = issue_token(
            _signing_keys(run_dir),
            role=role,
            tenant=tenant,
            unit=unit,
            endpoint=endpoint,
            ttl=timedelta(hours=hours),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    print(token)


# ---------------------------------------------------------------- dead letters


ALREADY_RESOLVED = 3
"""Exit code of `dlq discard|replay` when someone already dealt with the letter."""
Prefix = Annotated[str, typer.Option(help="Topic prefix (tests, shared clusters).")]
Bootstrap = Annotated[str | None, typer.Option(help="Kafka bootstrap servers.")]
Ref = Annotated[str, typer.Argument(help="<dlq topic>:<partition>:<offset>")]
By = Annotated[str, typer.Option(help="Who does it (recorded with the resolution).")]


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


async def _letters(
    bootstrap: KafkaAccess, prefix: str
) -> tuple[list[DeadLetter], dict[str, Resolution]]:
    letters = await read_dead_letters(bootstrap, await dead_letter_topics(bootstrap, prefix))
    return letters, await read_resolutions(bootstrap, prefix)


@dlq_app.command("list")
def dlq_list(
    prefix: Prefix = "",
    bootstrap: Bootstrap = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also the letters already replayed or discarded.")
    ] = False,
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Pending dead letters with their reason, service and origin (`--all`: resolved too)."""
    letters, resolved = asyncio.run(_letters(_bootstrap(run_dir, bootstrap), prefix))
    if not show_all:
        letters = [letter for letter in letters if letter.ref not in resolved]
    if as_json:
        for letter in letters:
            done = resolved.get(letter.ref)
            row = {"ref": letter.ref, "reason": letter.reason, **letter.headers}
            row["state"] = done.action if done else "pending"
            if done:
                row |= {"by": done.by, "at": done.at.isoformat(), "why": done.reason}
            print(json.dumps(row, ensure_ascii=False))
        return
    table = Table("ref", "reason", "service", "original", "error", "state")
    for letter in letters:
        h = letter.headers
        origin = f"{letter.original_topic}@{h.get('hnth-original-offset', '?')}"
        done = resolved.get(letter.ref)
        state = (
            f"{done.action} ({done.by}, {done.at:%Y-%m-%d %H:%M}Z) {done.reason}"
            if done
            else "pending"
        )
        table.add_row(
            letter.ref,
            letter.reason,
            h.get("hnth-dlq-service", "?"),
            origin,
            h.get("hnth-dlq-error", "")[:80],
            state,
        )
    out.print(table)
    out.print(f"{len(letters)} dead letter(s)")


def _parse_ref(ref: str) -> str:
    """The `.dlq` topic of a ref; a malformed ref is bad usage (exit 2)."""
    topic, _, place = ref.rpartition(":")
    topic, _, partition = topic.rpartition(":")
    if not topic or not partition.isdecimal() or not place.isdecimal():
        raise typer.BadParameter(f"{ref!r}: expected <dlq topic>:<partition>:<offset>")
    return topic


def _find(ref: str, bootstrap: KafkaAccess) -> DeadLetter:
    for letter in asyncio.run(read_dead_letters(bootstrap, [_parse_ref(ref)])):
        if letter.ref == ref:
            return letter
    raise fail(f"no dead letter {ref}")


def _prefix_of(letter: DeadLetter, given: str | None) -> str:
    """Resolutions live under the deployment's topic prefix: the part of the original
    topic before `hnth.` unless `--prefix` says otherwise."""
    if given is not None:
        return given
    head, found, _ = letter.original_topic.rpartition("hnth.")
    return head if found else ""


def _refuse_resolved(ref: str, bootstrap: KafkaAccess, prefix: str) -> None:
    done = asyncio.run(read_resolutions(bootstrap, prefix)).get(ref)
    if done is not None:
        err.print(f"already {done.action} by {done.by} at {done.at.isoformat()}: {done.reason}")
        raise typer.Exit(ALREADY_RESOLVED)


@dlq_app.command("show")
def dlq_show(
    ref: Ref, bootstrap: Bootstrap = None, run_dir: RunDir = stack.DEFAULT_RUN_DIR
) -> None:
    """A dead letter's headers and body."""
    letter = _find(ref, _bootstrap(run_dir, bootstrap))
    for key, value in letter.headers.items():
        out.print(f"[bold]{key}[/bold]: {value}")
    out.print(f"[bold]key[/bold]: {letter.key.decode(errors='replace')}")
    print(letter.value.decode(errors="replace"))


@dlq_app.command("replay")
def dlq_replay(
    ref: Ref,
    bootstrap: Bootstrap = None,
    by: By = "",
    prefix: Annotated[str | None, typer.Option(help="Topic prefix of the resolutions.")] = None,
    force: Annotated[bool, typer.Option(help="Replay even if already resolved.")] = False,
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Publish a dead letter's original message again to its original topic (exit 3 when
    it was already replayed or discarded, unless --force)."""
    servers = _bootstrap(run_dir, bootstrap)
    letter = _find(ref, servers)
    where = _prefix_of(letter, prefix)
    if not force:
        _refuse_resolved(ref, servers, where)
    asyncio.run(replay(servers, letter, by=by or _who(), prefix=where))
    out.print(f"replayed {ref} to {letter.original_topic}")


@dlq_app.command("discard")
def dlq_discard(
    ref: Ref,
    reason: Annotated[str, typer.Option(help="Why it needs no replay (recorded).")],
    bootstrap: Bootstrap = None,
    by: By = "",
    prefix: Annotated[str | None, typer.Option(help="Topic prefix of the resolutions.")] = None,
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Mark a dead letter as dealt with, with a reason, without replaying it.
    Exit 0 discarded, 1 no such letter or Kafka failed, 2 bad usage (no reason, bad ref),
    3 already replayed or discarded (nothing changed)."""
    if not reason.strip():
        raise typer.BadParameter("a reason is required", param_hint="--reason")
    servers = _bootstrap(run_dir, bootstrap)
    letter = _find(ref, servers)
    try:
        done = asyncio.run(
            discard(
                servers, letter, reason=reason, by=by or _who(), prefix=_prefix_of(letter, prefix)
            )
        )
    except AlreadyResolved as exc:
        err.print(str(exc))
        raise typer.Exit(ALREADY_RESOLVED) from None
    out.print(f"discarded {ref} by {done.by}: {done.reason}")


# ---------------------------------------------------------------- accounts


@account_app.command("create")
def account_create(
    tenant: Annotated[str, typer.Option(help="Province (tenant) code.")],
    username: Annotated[str, typer.Option(help="Tên đăng nhập / username.")],
    role: Annotated[Role, typer.Option(help="registrar | operator | technician | viewer")],
    display_name: Annotated[str | None, typer.Option(help="Họ tên / full name.")] = None,
    unit: Annotated[str | None, typer.Option(help="Unit code (registrars).")] = None,
    endpoint: Annotated[
        list[str] | None, typer.Option(help="Endpoint codes (technicians).")
    ] = None,
    email: Annotated[str | None, typer.Option(help="E-mail (for links).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    url: RegistrationUrl = "http://127.0.0.1:8001",
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Create an account through registration's API (signed with registration's keys),
    the first operator of a province included; prompts for the password."""
    if password_stdin:
        password = typer.get_text_stream("stdin").read().rstrip("\n")
    else:
        password = getpass.getpass("Mật khẩu / password: ")
        if getpass.getpass("Nhập lại / again: ") != password:
            raise fail("the passwords differ")
    body = {
        "username": username,
        "display_name": display_name or username,
        "role": role.value,
        "unit": unit,
        "endpoints": endpoint or [],
        "email": email,
        "password": password,
    }
    _as_operator(run_dir, tenant, f"{url}/accounts", body, expect=201)
    out.print(f"account {username} ({role.value}) created in {tenant}")


def _as_operator(
    run_dir: Path, tenant: str, target: str, body: Mapping[str, object] | None, expect: int
) -> dict[str, object]:
    """POST to registration as the province's operator (a token signed with registration's
    keys); the JSON answer, or exit 1 with the status and the body."""
    token = issue_token(
        _signing_keys(run_dir), role=Role.OPERATOR, tenant=tenant, subject="hnth-cli"
    )
    try:
        response = httpx.post(
            target, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
    except httpx.HTTPError as exc:
        raise fail(f"registration at {target} does not answer: {exc}") from None
    if response.status_code != expect:
        raise fail(f"{response.status_code} {response.text[:500]}")
    answer: dict[str, object] = response.json()
    return answer


# ---------------------------------------------------------------- integrating systems


@system_app.command("create")
def system_create(
    tenant: Annotated[str, typer.Option(help="Province (tenant) code.")],
    name: Annotated[str, typer.Option(help="Tên hệ thống / the system's name, e.g. vpdt.")],
    unit: Annotated[str, typer.Option(help="The unit it files meetings for (a registrar's).")],
    url: RegistrationUrl = "http://127.0.0.1:8001",
    prefix: Prefix = "",
    bootstrap: Bootstrap = None,
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Register an integrating system of a province: its HTTP client credentials (OAuth 2
    client credentials on registration's /auth/token) and a Kafka user of its own that may
    write only the province's inbound topic and read its own replies topic. Prints them as JSON (the
    secret and the password are shown this once). Run as the Kafka admin (HNTH_KAFKA_*)."""
    admin = _bootstrap(run_dir, bootstrap)
    if not admin.uses_sasl:  # checked first: a secret shown to nobody is lost
        raise fail(
            f"Kafka at {admin.bootstrap} has no sign-in (SASL): a system needs a Kafka user "
            "of its own, so nothing was registered. Start the local stack with "
            "`uv run python -m infra.stack up --sasl --fresh`, or point HNTH_KAFKA_* at a "
            "broker with SCRAM sign-in."
        )
    made = _as_operator(run_dir, tenant, f"{url}/systems", {"name": name, "unit": unit}, 201)
    client_id = str(made["client_id"])
    kafka = kafka_credentials(admin, Topics(prefix), tenant, client_id)
    answer = {
        "tenant": made["tenant"],
        "name": made["name"],
        "unit": made["unit"],
        "client_id": client_id,
        "client_secret": made["client_secret"],
        "token_url": made["token_url"],
        **kafka,
    }
    typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))


@system_app.command("disable")
def system_disable(
    client_id: Annotated[str, typer.Argument(help="The system's client_id.")],
    tenant: Annotated[str, typer.Option(help="Province (tenant) code.")],
    url: RegistrationUrl = "http://127.0.0.1:8001",
    bootstrap: Bootstrap = None,
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Disable an integrating system: its token requests are refused and its tokens within
    a minute; its Kafka user and ACLs are deleted (its next sign-in is refused)."""
    _as_operator(run_dir, tenant, f"{url}/systems/{client_id}/disable", None, 200)
    revoke_kafka_credentials(_bootstrap(run_dir, bootstrap), client_id)
    out.print(f"system {client_id} disabled in {tenant}")


# ---------------------------------------------------------------- demo data


@seed_app.command("demo")
def seed_demo(
    url: RegistrationUrl = "http://127.0.0.1:8001",
    count: Annotated[int, typer.Option(min=1, max=500, help="How many meetings.")] = 20,
    tenant: Annotated[str, typer.Option(help="Province (tenant) code.")] = "tuyen-quang",
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Register demo meetings over the next weeks across a province's endpoints."""
    token = issue_token(_signing_keys(run_dir), role=Role.OPERATOR, tenant=tenant)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=auth, timeout=10) as http:
        try:
            directory = http.get("/endpoints").raise_for_status().json()
        except httpx.HTTPError as exc:
            raise fail(f"registration at {url} does not answer: {exc}") from None
        # the People's Committee's room hosts; the others take turns joining
        main = next((e["code"] for e in directory if e["unit"] == "VP-UBND"), None)
        endpoints = [e["code"] for e in directory if e["code"] != main]
        if main is None or len(endpoints) < 4:
            raise fail(f"{tenant} has no VP-UBND endpoint or too few endpoints for the demo")
        first = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
        created = 0
        for n in track(range(count), description="Đăng ký / registering"):
            start = first + timedelta(days=3 + n // 3, hours=2 * (n % 3))
            body = {
                "title": f"Hội nghị trực tuyến mẫu số {n + 1}",
                "host_unit": "VP-UBND",
                "chair": "Lãnh đạo UBND tỉnh",
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1, minutes=30)).isoformat(),
                "main_endpoint": main,
                "endpoints": [endpoints[(n * 4 + i) % len(endpoints)] for i in range(4)],
                # the host's official letter: a province may require one (Lạng Sơn does)
                "document_number": f"{n + 1}/UBND-VP",
                "document_date": datetime.now(UTC).date().isoformat(),
            }
            response = http.post("/meetings", json=body, headers={"Idempotency-Key": f"demo-{n}"})
            created += response.status_code == 201
            if response.status_code >= 400:
                err.print(f"meeting {n + 1}: {response.status_code} {response.text[:200]}")
    out.print(f"{created} meeting(s) registered, {count - created} already there or refused")


# ---------------------------------------------------------------- the year-end report


def _download(http: httpx.Client, path: str, target: Path, progress: Progress) -> None:
    with http.stream("GET", path) as response:
        if response.status_code != 200:
            response.read()
            raise fail(f"GET {path}: {response.status_code} {response.text[:300]}")
        size = int(response.headers.get("content-length") or 0) or None
        task = progress.add_task(f"tải / downloading {target.name}", total=size)
        with target.open("wb") as file:
            for chunk in response.iter_bytes():
                file.write(chunk)
                progress.update(task, advance=len(chunk))


@report_app.command("compile")
def report_compile(
    year: Annotated[int, typer.Option(min=2000, max=2100, help="The report's year.")],
    url: Annotated[str, typer.Option(help="Inspection service.")] = "http://127.0.0.1:8004",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the files.")] = Path("."),
    tenant: Annotated[str, typer.Option(help="Province (tenant) code.")] = "tuyen-quang",
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Compile the provincial report (stored as a snapshot) and download it as XLSX and DOCX."""
    token = issue_token(_signing_keys(run_dir), role=Role.OPERATOR, tenant=tenant)
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(base_url=url, headers=headers, timeout=120) as http,
        Progress(*columns, console=err) as progress,
    ):
        compiling = progress.add_task("tổng hợp / compiling", total=None)
        try:
            response = http.post(f"/reports/{year}/compile")
        except httpx.HTTPError as exc:
            raise fail(f"inspection at {url} does not answer: {exc}") from None
        if response.status_code != 200:
            raise fail(f"compile: {response.status_code} {response.text[:300]}")
        progress.update(compiling, total=1, completed=1)
        report = response.json()
        for kind in ("xlsx", "docx"):
            _download(
                http, f"/reports/{year}.{kind}", out_dir / f"bao-cao-hnth-{year}.{kind}", progress
            )
    out.print(
        f"report {year}: "
        + ", ".join(str(out_dir / f"bao-cao-hnth-{year}.{kind}") for kind in ("xlsx", "docx"))
    )
    province = report.get("province") or {}
    for name in ("meetings_held", "checks_compliance", "inspections_compliance", "endpoints"):
        out.print(f"  {name}: {province.get(name)}")


# ---------------------------------------------------------------- rebuild a read model


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO time: {text}") from None
    if moment.tzinfo is None:
        raise typer.BadParameter("give the time zone, e.g. 2026-01-01T00:00+07:00")
    return moment


@app.command("replay")
def replay_from(
    service: Annotated[
        str, typer.Option(help="registration | scheduling | notification | inspection")
    ],
    since: Annotated[
        datetime,
        typer.Option("--from", parser=_moment, metavar="TIME", help="ISO time with zone."),
    ],
    group: Annotated[
        str | None, typer.Option(help="Consumer group (default hnth-<service>).")
    ] = None,
    topic: Annotated[list[str] | None, typer.Option(help="Only these topics (repeatable).")] = None,
    bootstrap: Annotated[str | None, typer.Option(help="Kafka bootstrap servers.")] = None,
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Rewind a service's consumer group to TIME so it consumes everything since again.

    STOP THE SERVICE (every replica) FIRST: Kafka moves a group's offsets only while it
    has no member; this refuses otherwise. Handlers are idempotent, so re-reading is safe;
    drop the service's read model first to rebuild it from the events.
    """
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service}; one of {', '.join(SERVICES)}")
    servers = _bootstrap(run_dir, bootstrap)
    name = group or f"hnth-{service}"
    try:
        with out.status(f"tua lại / rewinding {name}..."):
            moved = asyncio.run(rewind(servers, name, since, topic or None))
    except (GroupBusy, NothingToRewind) as exc:
        raise fail(str(exc)) from None
    table = Table("partition", "from offset", "to offset")
    for tp, (old, new) in sorted(moved.items()):
        table.add_row(f"{tp.topic}/{tp.partition}", str(old), str(new))
    out.print(table)
    out.print(f"{name} rewound to {since.isoformat()}: start {service} to re-read")


# ---------------------------------------------------------------- provinces that merge or rename

Source = Annotated[
    str | None, typer.Option(help="The decision it is made under (nghị quyết, quyết định).")
]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for every service.")]


def _change_province(
    former: str, into: str, rename: bool, source: str | None, timeout: float, run_dir: Path
) -> None:
    keys = _signing_keys(run_dir)

    def operator_of(tenant: str) -> dict[str, str]:
        token = issue_token(keys, role=Role.OPERATOR, tenant=tenant, subject="hnth-cli")
        return {"Authorization": f"Bearer {token}"}

    state = _state(run_dir)
    urls = {
        name: os.environ.get(f"HNTH_{name.upper()}_URL")
        or (state.urls.get(name) if state else None)
        or default
        for name, default in province.DEFAULT_URLS.items()
    }
    # a rename is the renamed province's to ask; a merge is made once both provinces have
    # asked: this command, holding the platform's keys, asks as each (the one it joins first)
    headers = operator_of(former if rename else into)
    lines: dict[str, str] = {}

    def show(progress: province.Progress) -> None:
        for service in urls:
            line = progress.line(service)
            if lines.get(service) != line:
                lines[service] = line
                err.print(line)

    try:
        with httpx.Client(headers=headers, timeout=30) as http:
            change = province.record(http, urls["registration"], former, into, rename, source)
            if change.get("waiting_for") == former:
                change = province.record(
                    http, urls["registration"], former, into, rename, source, operator_of(former)
                )
            renamed = {**change["units"], **change["endpoints"], **change["accounts"]}
            out.print(f"{former} -> {into} ({change['rule']}: {change['source']})")
            for old, new in renamed.items():
                out.print(f"  {old} -> {new}")
            province.follow(http, urls, former, timeout=timeout, show=show)
    except province.ChangeFailed as exc:
        raise fail(str(exc)) from None
    out.print(f"{former} -> {into}: every service done")


@province_app.command("merge")
def province_merge(
    former: Annotated[str, typer.Option("--from", help="The province merged (its code).")],
    into: Annotated[str, typer.Option("--into", help="The province it joins.")],
    source: Source = None,
    timeout: Timeout = 600.0,
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Merge a province into another: every service moves its directory (codes kept
    unique), accounts, meetings and history; requests naming it are refused, naming the
    other. Safe to run again after an interruption: it goes on where it stopped."""
    _change_province(former, into, False, source, timeout, run_dir)


@province_app.command("rename")
def province_rename(
    former: Annotated[str, typer.Option("--from", help="The province's old code.")],
    to: Annotated[str, typer.Option("--to", help="Its new code (a policy file must exist).")],
    source: Source = None,
    timeout: Timeout = 600.0,
    run_dir: RunDir = stack.DEFAULT_RUN_DIR,
) -> None:
    """Rename a province (e.g. thua-thien-hue -> hue): as a merge into a code without data;
    old tokens, links and calendar feeds keep working under the new code."""
    _change_province(former, to, True, source, timeout, run_dir)
