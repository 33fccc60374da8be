"""The console's pages. Every page reads the services over HTTP with the person's own
token (pasted at sign-in, kept in an HttpOnly cookie); the services enforce their own
rules, and the console refuses a page to roles that have no business there."""

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from hnth_console import views
from hnth_console.backends import BackendError, Backends
from hnth_console.i18n import translator
from hnth_console.settings import ConsoleSettings
from hnth_contracts.policy import Policy, load_policy
from hnth_kit.auth import InvalidToken, Principal, Role, verify_token
from hnth_kit.dlq import (
    AlreadyResolved,
    dead_letter_topics,
    discard,
    pending,
    read_dead_letters,
    read_resolutions,
    replay,
)
from hnth_kit.health import health_router

HERE = Path(__file__).parent
TOKEN_COOKIE = "hnth_token"  # noqa: S105 - the cookie's name, not a secret
LANG_COOKIE = "lang"
EVERYONE = frozenset(Role)
PAGES: dict[str, frozenset[Role]] = {
    "schedule": EVERYONE,
    "board": EVERYONE,
    "incidents": EVERYONE,
    "new_meeting": frozenset({Role.OPERATOR, Role.REGISTRAR}),
    "notices": frozenset({Role.OPERATOR, Role.VIEWER}),
    "reports": frozenset({Role.OPERATOR, Role.VIEWER}),
    "dead_letters": frozenset({Role.OPERATOR}),
    "resend": frozenset({Role.OPERATOR}),
}
"""Which roles see which page or action (the services still decide what each role sees
in it; notification itself refuses a resend to any role but the IT department's)."""
NAV = ("schedule", "board", "new_meeting", "notices", "incidents", "reports", "dead_letters")


class SignInNeeded(Exception):
    pass


class Refused(Exception):
    pass


class Session:
    """The signed-in person on this request: who, their token, their language."""

    def __init__(self, who: Principal, token: str, lang: str, zone: ZoneInfo) -> None:
        self.who = who
        self.token = token
        self.lang = lang
        self.zone = zone
        self.t = translator(lang)

    def may(self, page: str) -> bool:
        return self.who.role in PAGES[page]


def build(settings: ConsoleSettings) -> FastAPI:
    templates = Jinja2Templates(directory=HERE / "templates")
    backends = Backends(settings)
    secret = settings.auth_secret.get_secret_value()
    warn = timedelta(minutes=settings.board_warn_minutes)

    @functools.cache
    def policy(tenant: str) -> Policy:
        return load_policy(settings.policy_dir, tenant)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await backends.close()

    app = FastAPI(title="HNTH Ops: bảng điều hành / operator console", lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(health_router({}))

    def language(request: Request) -> str:
        return "en" if request.cookies.get(LANG_COOKIE) == "en" else "vi"

    async def session(request: Request) -> Session:
        token = request.cookies.get(TOKEN_COOKIE, "")
        try:
            who = verify_token(secret, token)
        except InvalidToken:
            raise SignInNeeded from None
        return Session(who, token, language(request), ZoneInfo(policy(who.tenant).timezone))

    def page(name: str) -> Any:
        async def check(s: Annotated[Session, Depends(session)]) -> Session:
            if not s.may(name):
                raise Refused
            return s

        return check

    def render(
        request: Request, s: Session | None, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        lang = s.lang if s else language(request)
        return templates.TemplateResponse(
            request,
            template,
            {
                "s": s,
                "t": translator(lang),
                "lang": lang,
                "nav": [n for n in NAV if s and s.may(n)],
                "when": (lambda v, p="%d/%m %H:%M": views.shown_time(v, s.zone, p)) if s else str,
                "details": views.timeline_details,
                "may_resend": bool(s and s.may("resend")),
                "new_key": lambda: uuid.uuid4().hex,  # one per resend button: a retry sends once
                **context,
            },
            status_code=status,
        )

    @app.exception_handler(SignInNeeded)
    async def sign_in(request: Request, _: SignInNeeded) -> Response:
        return RedirectResponse(f"/login?next={_safe_next(request.url.path)}", status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, _: Refused) -> Response:
        s = await session(request)
        return render(request, s, "error.html", 403, message=s.t("forbidden"))

    @app.exception_handler(BackendError)
    async def backend_failed(request: Request, exc: BackendError) -> Response:
        s = await session(request)
        status = exc.status if exc.status in (403, 404) else 502
        message = f"{s.t('backend_error')} ({exc.service} {exc.status}): {exc.message}"
        return render(request, s, "error.html", status, message=message)

    # ------------------------------------------------------------ sign-in, language

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_form(request: Request, next: str = "/board") -> HTMLResponse:
        return render(request, None, "login.html", next=_safe_next(next))

    @app.post("/login", include_in_schema=False)
    async def login(
        request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/board"
    ) -> Response:
        token = token.strip()
        try:
            verify_token(secret, token)
        except InvalidToken:
            t = translator(language(request))
            return render(request, None, "login.html", 401, error=t("bad_token"), next=next)
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            TOKEN_COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies
        )
        return response

    @app.get("/logout", include_in_schema=False)
    async def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(TOKEN_COOKIE)
        return response

    @app.get("/lang/{code}", include_in_schema=False)
    async def switch_language(code: str, next: str = "/board") -> Response:
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(LANG_COOKIE, "en" if code == "en" else "vi", samesite="lax")
        return response

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/board", status_code=303)

    # ------------------------------------------------------------ schedule and meetings

    async def meetings_between(
        s: Session, start: datetime, end: datetime, endpoint: str | None = None
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = None
        for _ in range(10):  # at most 2,000 meetings in one view
            page_ = await backends.get(
                "registration",
                "/meetings",
                s.token,
                s.lang,
                **{"from": start.isoformat(), "to": end.isoformat()},
                endpoint=endpoint or None,
                limit=200,
                cursor=cursor,
            )
            found.extend(page_["items"])
            cursor = page_.get("next_cursor")
            if not cursor:
                break
        return found

    async def directory(s: Session, kind: str = "endpoints") -> list[dict[str, Any]]:
        """The province's endpoints or units, to pick from (empty if this role may not list)."""
        try:
            return list(
                await backends.get("registration", f"/{kind}", s.token, s.lang, active=True)
            )
        except BackendError:
            return []  # a role that may not list the directory still sees its schedule

    async def meeting_form(
        request: Request, s: Session, status: int, form: dict[str, Any], errors: list[str]
    ) -> HTMLResponse:
        endpoints, units = await asyncio.gather(directory(s), directory(s, "units"))
        return render(
            request,
            s,
            "new_meeting.html",
            status,
            endpoints=endpoints,
            units=units,
            form=form,
            errors=errors,
        )

    @app.get("/schedule", response_class=HTMLResponse, summary="Lịch họp / schedule")
    async def schedule(
        request: Request,
        s: Annotated[Session, Depends(page("schedule"))],
        view: str = "week",
        day: date | None = None,
        endpoint: str | None = None,
        bridge: str | None = None,
    ) -> HTMLResponse:
        view = "day" if view == "day" else "week"
        today = datetime.now(UTC).astimezone(s.zone).date()
        start, end, days = views.period(view, day or today, s.zone)
        meetings, endpoints = await asyncio.gather(
            meetings_between(s, start, end, endpoint), directory(s)
        )
        step = timedelta(days=1 if view == "day" else 7)
        bridges = [b.name for b in policy(s.who.tenant).all_bridges]
        shown = views.on_bridge(meetings, bridge) if bridge else meetings
        return render(
            request,
            s,
            "schedule.html",
            view=view,
            days=views.by_day(shown, days, s.zone),
            previous=days[0] - step,
            following=days[0] + step,
            endpoint=endpoint or "",
            endpoints=endpoints,
            bridge=bridge or "",
            bridges=bridges,
        )

    @app.get("/meetings/new", response_class=HTMLResponse, summary="Đăng ký họp / register")
    async def new_meeting(
        request: Request, s: Annotated[Session, Depends(page("new_meeting"))]
    ) -> HTMLResponse:
        # one key per form: a double click or a browser retry registers the meeting once
        return await meeting_form(request, s, 200, {"idempotency_key": uuid.uuid4().hex}, [])

    @app.post("/meetings/new", response_class=HTMLResponse, include_in_schema=False)
    async def register_meeting(
        request: Request, s: Annotated[Session, Depends(page("new_meeting"))]
    ) -> Response:
        form = await request.form()
        fields = {k: str(form.get(k) or "").strip() for k in _MEETING_FIELDS}
        chosen = [str(v) for v in form.getlist("endpoints")]
        try:
            start = datetime.strptime(fields["start"], "%Y-%m-%d %H:%M").replace(tzinfo=s.zone)
            minutes = int(fields["minutes"] or "0")
        except ValueError:
            form_ = {**fields, "endpoints": chosen}
            return await meeting_form(request, s, 422, form_, ["start: YYYY-MM-DD HH:MM"])
        body = {
            "title": fields["title"],
            "host_unit": fields["host_unit"] or s.who.unit,
            "chair": fields["chair"],
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=minutes)).isoformat(),
            "main_endpoint": fields["main_endpoint"],
            "endpoints": sorted({fields["main_endpoint"], *chosen} - {""}),
        }
        if fields["urgent_reason"]:  # inside the notice lead time: the IT department only
            body["urgent_reason"] = fields["urgent_reason"]
        key = fields["idempotency_key"] or uuid.uuid4().hex
        try:
            created = await backends.request(
                "POST",
                "registration",
                "/meetings",
                s.token,
                s.lang,
                json=body,
                headers={"Idempotency-Key": key},
            )
        except BackendError as exc:
            if exc.status not in (400, 409, 422):
                raise
            form_ = {**fields, "endpoints": chosen}
            return await meeting_form(request, s, exc.status, form_, [exc.message])
        return RedirectResponse(f"/meetings/{created.json()['id']}", status_code=303)

    async def optional(call: Any) -> Any:
        """A part of a page that may not be there yet (404) or not for this role (403)."""
        try:
            return await call
        except BackendError as exc:
            if exc.status in (403, 404):
                return None
            raise

    @app.get("/meetings/{meeting_id}", response_class=HTMLResponse, summary="Một cuộc họp")
    async def meeting(
        request: Request,
        meeting_id: str,
        s: Annotated[Session, Depends(page("schedule"))],
        resent: str | None = None,
    ) -> HTMLResponse:
        get = functools.partial(backends.get, token=s.token, lang=s.lang)
        found, notices, readiness, incidents, materials = await asyncio.gather(
            get("registration", f"/meetings/{meeting_id}"),
            optional(get("notification", f"/meetings/{meeting_id}/notices")),
            optional(get("inspection", f"/meetings/{meeting_id}/readiness")),
            optional(get("inspection", "/incidents")),
            # None: this person may not read the materials (registration decides, per role)
            optional(get("registration", f"/meetings/{meeting_id}/materials")),
        )
        now = datetime.now(UTC)
        checks = [{**c, "alarm": views.alarm(c, now, warn)} for c in readiness or []]
        return render(
            request,
            s,
            "meeting.html",
            m=found,
            notices=notices,
            checks=checks,
            incidents=[i for i in incidents or [] if i.get("meeting_id") == meeting_id],
            materials=materials,
            resent=resent,
            back=f"/meetings/{meeting_id}",
        )

    @app.get("/meetings/{meeting_id}/materials/{material_id}", summary="Tải tài liệu")
    async def material(
        meeting_id: str, material_id: str, s: Annotated[Session, Depends(page("schedule"))]
    ) -> Response:
        """The file, exactly as registration gives it to this person (it records the download)."""
        path = f"/meetings/{quote(meeting_id)}/materials/{quote(material_id)}"
        got = await backends.request("GET", "registration", path, s.token, s.lang)
        kept = ("content-disposition", "etag", "x-checksum-sha256")
        headers = {k: v for k, v in got.headers.items() if k.lower() in kept}
        return Response(got.content, media_type=got.headers.get("content-type"), headers=headers)

    async def per_meeting(
        s: Session, service: str, path: str, meetings: list[dict[str, Any]]
    ) -> list[Any]:
        """`path` (with `{}` for the meeting id) of every meeting, concurrently."""
        return list(
            await asyncio.gather(
                *(
                    optional(backends.get(service, path.format(m["id"]), s.token, s.lang))
                    for m in meetings
                )
            )
        )

    # ------------------------------------------------------------ readiness board

    @app.get("/board", response_class=HTMLResponse, summary="Bảng sẵn sàng / readiness board")
    async def board(
        request: Request, s: Annotated[Session, Depends(page("board"))]
    ) -> HTMLResponse:
        now = datetime.now(UTC)
        start, end, _ = views.period("day", now.astimezone(s.zone).date(), s.zone)
        meetings = [
            m
            for m in await meetings_between(s, start, end + timedelta(days=1))
            if m.get("status") != "cancelled"
        ]
        boards = await asyncio.gather(
            *(
                optional(
                    backends.get("inspection", f"/meetings/{m['id']}/readiness", s.token, s.lang)
                )
                for m in meetings
            )
        )
        readiness = {m["id"]: b or [] for m, b in zip(meetings, boards, strict=True)}
        return render(
            request,
            s,
            "board.html",
            rows=views.board_rows(meetings, readiness, now, warn),
            refresh=settings.board_refresh_seconds,
            now=now,
        )

    # ------------------------------------------------------------ notices

    @app.get("/notices", response_class=HTMLResponse, summary="Thông báo chưa xác nhận")
    async def notices(
        request: Request,
        s: Annotated[Session, Depends(page("notices"))],
        resent: str | None = None,
    ) -> HTMLResponse:
        now = datetime.now(UTC)
        meetings = await meetings_between(s, now - timedelta(days=1), now + timedelta(days=14))
        found = await asyncio.gather(
            *(
                optional(
                    backends.get("notification", f"/meetings/{m['id']}/notices", s.token, s.lang)
                )
                for m in meetings
            )
        )
        rows = [
            {"meeting": m, "notices": views.unacknowledged(n or [])}
            for m, n in zip(meetings, found, strict=True)
        ]
        return render(
            request,
            s,
            "notices.html",
            rows=[r for r in rows if r["notices"]],
            resent=resent,
            back="/notices",
        )

    @app.post("/notices/resend", include_in_schema=False)
    async def resend_notice(
        request: Request,
        notice_id: Annotated[str, Form()],
        idempotency_key: Annotated[str, Form()],
        s: Annotated[Session, Depends(page("resend"))],
        back: Annotated[str, Form()] = "/notices",
    ) -> Response:
        """Ask notification to deliver the notice again (the form's key: a double click or
        a browser retry resends once), then show the page it came from with the result."""
        try:
            found = await backends.request(
                "POST",
                "notification",
                f"/notices/{quote(notice_id, safe='')}/resend",
                s.token,
                s.lang,
                headers={"Idempotency-Key": idempotency_key},
            )
        except BackendError as exc:
            if exc.status not in (400, 409):
                raise
            return render(request, s, "error.html", exc.status, message=exc.message)
        resent = found.json()["recipient"]
        return RedirectResponse(_with_query(_safe_next(back), resent=resent), status_code=303)

    # ------------------------------------------------------------ incidents, inspections

    @app.get("/incidents", response_class=HTMLResponse, summary="Sự cố và kiểm tra định kỳ")
    async def incidents(
        request: Request, s: Annotated[Session, Depends(page("incidents"))]
    ) -> HTMLResponse:
        get = functools.partial(backends.get, token=s.token, lang=s.lang)
        opened, tasks = await asyncio.gather(
            get("inspection", "/incidents", state="open"), get("inspection", "/inspections")
        )
        late, later = views.overdue(tasks, datetime.now(UTC))
        return render(request, s, "incidents.html", opened=opened, late=late, later=later)

    # ------------------------------------------------------------ reports

    @app.get("/reports", response_class=HTMLResponse, summary="Báo cáo / reports")
    async def reports(
        request: Request, s: Annotated[Session, Depends(page("reports"))], year: int | None = None
    ) -> HTMLResponse:
        year = year or datetime.now(UTC).astimezone(s.zone).year
        get = functools.partial(backends.get, token=s.token, lang=s.lang)
        report, annual = await asyncio.gather(
            get("inspection", f"/reports/{year}"), get("inspection", "/annual-reports", year=year)
        )
        province = report.get("province") or {}
        return render(
            request,
            s,
            "reports.html",
            year=year,
            province=province,
            bars=views.compliance_bars(province),
            annual=annual,
        )

    @app.get("/reports/{year}.{kind}", summary="Tải báo cáo / download the report")
    async def download(
        year: int, kind: str, s: Annotated[Session, Depends(page("reports"))]
    ) -> Response:
        if kind not in ("xlsx", "docx"):
            raise BackendError("console", 404, kind)
        found = await backends.request(
            "GET", "inspection", f"/reports/{year}.{kind}", s.token, s.lang
        )
        return Response(
            found.content,
            media_type=found.headers.get("content-type"),
            headers={"Content-Disposition": found.headers.get("content-disposition", "")},
        )

    # ------------------------------------------------------------ dead letters

    bootstrap = settings.kafka_bootstrap_servers
    prefix = settings.topic_prefix

    async def letters() -> list[Any]:
        return await read_dead_letters(bootstrap, await dead_letter_topics(bootstrap, prefix))

    async def letter_of(ref: str) -> Any:
        """The dead letter `ref` names, still pending (404 unknown, 409 already resolved)."""
        found, resolved = await asyncio.gather(letters(), read_resolutions(bootstrap, prefix))
        letter = next((x for x in found if x.ref == ref), None)
        if letter is None:
            raise BackendError("kafka", 404, ref)
        if ref in resolved:
            raise AlreadyResolved(resolved[ref])
        return letter

    @app.exception_handler(AlreadyResolved)
    async def already_resolved(request: Request, exc: AlreadyResolved) -> Response:
        s = await session(request)
        done = exc.resolution
        message = (
            f"{s.t('already_resolved')}: {done.ref} · {s.t(done.action)} · {done.by} · "
            f"{views.shown_time(done.at, s.zone)} · {done.reason}"
        )
        return render(request, s, "error.html", 409, message=message)

    @app.get("/dead-letters", response_class=HTMLResponse, summary="Thư lỗi / dead letters")
    async def dead_letters(
        request: Request,
        s: Annotated[Session, Depends(page("dead_letters"))],
        replayed: str | None = None,
        discarded: str | None = None,
    ) -> HTMLResponse:
        found, resolved = await asyncio.gather(letters(), read_resolutions(bootstrap, prefix))
        return render(
            request,
            s,
            "dead_letters.html",
            groups=views.dead_letter_groups(pending(found, resolved)),
            resolved=[(x, resolved[x.ref]) for x in found if x.ref in resolved],
            replayed=replayed,
            discarded=discarded,
        )

    @app.post("/dead-letters/replay", include_in_schema=False)
    async def replay_letter(
        ref: Annotated[str, Form()], s: Annotated[Session, Depends(page("dead_letters"))]
    ) -> Response:
        letter = await letter_of(ref)
        await replay(bootstrap, letter, by=s.who.subject, prefix=prefix)
        return RedirectResponse(_with_query("/dead-letters", replayed=ref), status_code=303)

    @app.post("/dead-letters/discard", include_in_schema=False)
    async def discard_letter(
        request: Request,
        ref: Annotated[str, Form()],
        s: Annotated[Session, Depends(page("dead_letters"))],
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        """Mark the letter dealt with, without replaying it; a reason is required."""
        if not reason.strip():
            return render(request, s, "error.html", 422, message=s.t("reason_required"))
        letter = await letter_of(ref)
        await discard(bootstrap, letter, reason=reason, by=s.who.subject, prefix=prefix)
        return RedirectResponse(_with_query("/dead-letters", discarded=ref), status_code=303)

    return app


_MEETING_FIELDS = (
    "title",
    "host_unit",
    "chair",
    "start",
    "minutes",
    "main_endpoint",
    "idempotency_key",
    "urgent_reason",
)


def _with_query(path: str, **params: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{urlencode(params)}"


def _safe_next(target: str) -> str:
    """Only paths of this console (no open redirect to another site)."""
    return target if target.startswith("/") and not target.startswith("//") else "/board"
