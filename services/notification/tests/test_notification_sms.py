"""SMS on the real broker, the real database and a real SMPP server (infra/smpp): a
last-hour alert reaches the SMSC once per recipient, also across a restart of the service
and a redelivered event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notification_samples import assigned, directory, missed_check

from hnth_kit.testing import eventually

SMS_ROLES = {"technician:TQ-STTTT", "line_provider", "power_company"}


def whole_texts(smpp, opening: str):
    """The texts the SMSC received whole, of the messages opening with `opening`: a long
    text arrives in parts, each with a concatenation header (`050003` + reference + parts
    + this part's number), joined here by reference in their order once all have come
    (parts of other messages may arrive between them)."""

    async def probe() -> list[str]:
        parts: dict[str, dict[int, str]] = {}
        totals: dict[str, int] = {}
        texts = []
        for m in smpp.messages():
            udh = m.get("udh") or ""
            if not udh:
                texts.append(m["text"])
                continue
            ref, total, number = udh[-6:-4], int(udh[-4:-2], 16), int(udh[-2:], 16)
            parts.setdefault(ref, {})[number] = m["text"]
            totals[ref] = total
        for ref, got in parts.items():
            if len(got) == totals[ref]:
                texts.append("".join(got[n] for n in sorted(got)))
        return [t for t in texts if t.startswith(opening)]

    return probe


def first_parts(smpp, opening: str = "HNTH cảnh báo") -> list[dict]:
    """What the SMSC received, one entry per message (a long text arrives in parts: the
    concatenation header ends with the part's number), of those opening with `opening`:
    the check alerts, by default (a meeting assigned 40 minutes ahead also escalates its
    late notice to the duty phone)."""

    async def probe() -> list[dict]:
        return [
            m
            for m in smpp.messages()
            if (not m.get("udh") or m["udh"].endswith("01")) and m["text"].startswith(opening)
        ]

    return probe


def sms_of(notices: list[dict], endpoint: str) -> list[dict]:
    alerts = [n for n in notices if n["channel"] == "sms" and n["kind"] == "check_alert"]
    return [n for n in alerts if n["data"]["endpoint"] == endpoint]


async def test_a_last_hour_alert_reaches_the_smsc_once_each_across_a_restart(
    notification, smtp, smpp
) -> None:
    settings = {
        "smtp_port": smtp.port,
        "smpp_host": smpp.host,
        "smpp_port": smpp.port,
        "smpp_system_id": smpp.system_id,
        "smpp_password": smpp.password,
        "smpp_timeout_seconds": 30.0,
    }
    h = await notification(**settings)
    await h.publish_directory(directory())
    start = (datetime.now(UTC) + timedelta(minutes=40)).replace(microsecond=0)
    await h.publish(assigned("m-sms", start))
    alert = missed_check("m-sms", "TQ-STTTT", start)
    await h.publish(alert)

    sent = await eventually(
        lambda: h.notices("m-sms"),
        until=lambda ns: (
            {n["recipient"] for n in sms_of(ns, "TQ-STTTT") if n["status"] == "sent"} == SMS_ROLES
        ),
    )
    received = await eventually(first_parts(smpp), until=lambda ms: len(ms) >= 3)
    ids = {n["message_id"] for n in sms_of(sent, "TQ-STTTT")}
    assert ids == {m["message_id"] for m in received}
    assert all(m["destination"] == "842073822000" for m in received)  # E.164 without its +
    assert all(m["data_coding"] == 8 for m in received)  # UCS-2: Vietnamese with its marks
    texts = " ".join(m["text"] for m in smpp.messages())
    assert "TQ-STTTT" in texts
    assert "chưa kiểm tra đúng hạn" in texts
    # the late notice reached the duty phone too, in words
    duty = await eventually(whole_texts(smpp, "HNTH báo trực"), until=lambda ts: len(ts) >= 1)
    assert "gửi muộn" in duty[0]

    # the service restarts and the same alert is delivered again (at-least-once upstream);
    # a second endpoint's alert after it shows the redelivery was taken in by then
    await h.service.stop()
    h = await notification(**settings)
    await h.publish(alert, missed_check("m-sms", "TQ-UBND", start))
    later = await eventually(
        lambda: h.notices("m-sms"),
        until=lambda ns: len([n for n in sms_of(ns, "TQ-UBND") if n["status"] == "sent"]) == 3,
    )
    received = await eventually(first_parts(smpp), until=lambda ms: len(ms) >= 6)
    assert len(received) == 6, received  # three each, none twice
    assert len(sms_of(later, "TQ-STTTT")) == 3
    assert len({m["message_id"] for m in received}) == 6
