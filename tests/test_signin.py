"""A person signs in and is known by all four services; a disabled account's live token
is refused by every one of them within a minute (real processes, Kafka and FerretDB)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from hnth_kit.testing import eventually

pytestmark = pytest.mark.system

TENANT = "tuyen-quang"
PASSWORD = "mot-mat-khau-du-dai-2026"
REVOCATION_SECONDS = 60
"""The issue's bound: every service refuses a revoked sign-in within a minute."""


def probes(platform) -> dict[str, str]:
    """A route each service answers an operator on."""
    return {
        "registration": f"{platform.urls['registration']}/meetings",
        "scheduling": f"{platform.urls['scheduling']}/metrics",
        "notification": f"{platform.urls['notification']}/meetings/none/notices",
        "inspection": f"{platform.urls['inspection']}/incidents",
    }


async def sign_in(http: httpx.AsyncClient, base: str, username: str, password: str):
    body = {"tenant": TENANT, "username": username, "password": password}
    return await http.post(f"{base}/auth/login", json=body)


async def test_a_signed_in_operator_is_known_everywhere_until_disabled(shared_platform) -> None:
    platform = shared_platform
    admin = {"Authorization": f"Bearer {platform.token('--role', 'operator')}"}
    base = platform.urls["registration"]
    async with httpx.AsyncClient(timeout=30) as http:
        account = {
            "username": "tran.van.truc",
            "display_name": "Trần Văn Trực",
            "role": "operator",
            "password": PASSWORD,
        }
        created = await http.post(f"{base}/accounts", json=account, headers=admin)
        assert created.status_code == 201, created.text
        signed_in = await sign_in(http, base, "tran.van.truc", PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        person = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

        for service, url in probes(platform).items():
            answer = await http.get(url, headers=person)
            assert answer.status_code in (200, 404), (service, answer.text)
            assert answer.status_code != 401, service

        disabled = await http.post(f"{base}/accounts/tran.van.truc/disable", headers=admin)
        assert disabled.status_code == 200, disabled.text

        async def refused_by() -> set[str]:
            codes = {s: (await http.get(u, headers=person)) for s, u in probes(platform).items()}
            return {s for s, r in codes.items() if r.status_code == 401}

        await eventually(refused_by, until=lambda r: len(r) == 4, timeout=REVOCATION_SECONDS)
        again = await http.get(probes(platform)["inspection"], headers=person)
        assert again.json()["code"] == "revoked"
        assert (await sign_in(http, base, "tran.van.truc", PASSWORD)).status_code == 401
        # the operator who disabled it is unaffected
        assert (await http.get(probes(platform)["inspection"], headers=admin)).status_code == 200


async def test_five_wrong_passwords_lock_the_account_for_every_replica(shared_platform) -> None:
    platform = shared_platform
    admin = {"Authorization": f"Bearer {platform.token('--role', 'operator')}"}
    base = platform.urls["registration"]
    async with httpx.AsyncClient(timeout=30) as http:
        account = {
            "username": "le.thi.khoa",
            "display_name": "Lê Thị Khóa",
            "role": "viewer",
            "password": PASSWORD,
        }
        assert (await http.post(f"{base}/accounts", json=account, headers=admin)).is_success
        answers = [
            (await sign_in(http, base, "le.thi.khoa", "sai-mat-khau-lan-nua")).status_code
            for _ in range(5)
        ]
        assert answers == [401] * 5
        locked = await sign_in(http, base, "le.thi.khoa", PASSWORD)
        assert locked.status_code == 429, locked.text
        assert int(locked.headers["Retry-After"]) > 0
        assert locked.json()["code"] == "locked_out"


def _link_token(mail) -> str:
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/set-password\?\S+", text)
    assert link is not None, text
    return parse_qs(urlparse(link.group(0)).query)["token"][0]


async def test_a_new_person_and_a_reset_set_their_password_by_the_mailed_link(
    shared_platform,
) -> None:
    platform = shared_platform
    admin = {"Authorization": f"Bearer {platform.token('--role', 'operator')}"}
    base = platform.urls["registration"]
    address = "pham.minh.moi@tuyenquang.gov.vn"
    async with httpx.AsyncClient(timeout=30) as http:
        account = {
            "username": "pham.minh.moi",
            "display_name": "Phạm Minh Mới",
            "role": "viewer",
            "email": address,
        }
        assert (await http.post(f"{base}/accounts", json=account, headers=admin)).is_success
        [invite] = await eventually(lambda: _inbox(platform, address), until=lambda m: len(m) == 1)
        assert "Phạm Minh Mới" in invite.get_body(("plain",)).get_content()
        chosen = {"token": _link_token(invite), "password": PASSWORD}
        assert (await http.post(f"{base}/auth/set-password", json=chosen)).status_code == 200
        assert (await sign_in(http, base, "pham.minh.moi", PASSWORD)).status_code == 200
        # the link works once
        assert (await http.post(f"{base}/auth/set-password", json=chosen)).status_code == 400

        reset = await http.post(f"{base}/accounts/pham.minh.moi/reset-password", headers=admin)
        assert reset.is_success, reset.text
        mails = await eventually(lambda: _inbox(platform, address), until=lambda m: len(m) == 2)
        assert (await sign_in(http, base, "pham.minh.moi", PASSWORD)).status_code == 401
        renewed = {"token": _link_token(mails[1]), "password": "mat-khau-moi-sau-khi-dat-lai"}
        assert (await http.post(f"{base}/auth/set-password", json=renewed)).status_code == 200
        again = await sign_in(http, base, "pham.minh.moi", renewed["password"])
        assert again.status_code == 200, again.text


async def _inbox(platform, address: str) -> list:
    return platform.smtp.inbox.to(address)
