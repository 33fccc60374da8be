"""An e-office system asking HNTH Ops for a meeting over Kafka, and reading the answer.

It uses confluent-kafka (librdkafka) and httpx, not HNTH Ops' own client: any Kafka client that
speaks SASL/SCRAM-SHA-512 will do. Run it with what `hnth system create` printed and a
meeting in the shape of `POST /meetings`:

    uv run hnth system create --tenant tuyen-quang --name vpdt > vpdt.json
    uv run python docs/examples/eoffice_submit.py vpdt.json meeting.json REQUEST-ID

The request carries the system's access token (OAuth 2 client credentials on `token_url`)
in its `authorization` header: Kafka's ACLs let any system of the province write the topic,
the token says which one sent the request. It prints the answer as JSON and exits 0 when
the meeting was registered, 1 when it was refused (every broken rule named, with its
source), 2 when no answer came. Sending the same REQUEST-ID again registers nothing new:
the answer names the same meeting.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from confluent_kafka import Consumer, KafkaException, Producer

ANSWER_WAIT_SECONDS = 60


def connection(credentials: dict[str, str]) -> dict[str, str]:
    """librdkafka's settings for signing in as the system."""
    settings = {
        "bootstrap.servers": credentials["bootstrap"],
        "security.protocol": credentials["security_protocol"].lower(),
    }
    if credentials["security_protocol"].startswith("SASL"):
        settings |= {
            "sasl.mechanism": credentials["sasl_mechanism"],
            "sasl.username": credentials["username"],
            "sasl.password": credentials["password"],
        }
    return settings


def request(credentials: dict[str, str], meeting: dict, request_id: str) -> bytes:
    """The MeetingSubmitted message (docs/asyncapi/registration.json)."""
    return json.dumps(
        {
            "type": "MeetingSubmitted",
            "event_id": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "tenant": credentials["tenant"],
            "producer": credentials["client_id"],
            "correlation_id": request_id,
            "request_id": request_id,
            "system": credentials["client_id"],
            "meeting": meeting,
        },
        ensure_ascii=False,
    ).encode()


def access_token(credentials: dict[str, str]) -> str:
    """A fresh access token of the system (client credentials, RFC 6749 section 4.4)."""
    answer = httpx.post(
        credentials["token_url"],
        data={"grant_type": "client_credentials"},
        auth=(credentials["client_id"], credentials["client_secret"]),
        timeout=30,
    )
    if answer.status_code != 200:  # a wrong secret, or the system was disabled
        raise SystemExit(f"the token request was refused: {answer.status_code} {answer.text}")
    return str(answer.json()["access_token"])


def send(credentials: dict[str, str], meeting: dict, request_id: str) -> None:
    producer = Producer({**connection(credentials), "enable.idempotence": True, "acks": "all"})
    failures: list[str] = []

    def delivered(error, _message) -> None:
        if error is not None:
            failures.append(str(error))

    producer.produce(
        credentials["topic"],
        key=request_id.encode(),
        value=request(credentials, meeting, request_id),
        headers=[("authorization", f"Bearer {access_token(credentials)}")],
        on_delivery=delivered,
    )
    if producer.flush(30) or failures:
        raise KafkaException(failures[0] if failures else "the request was not delivered")


def answer(credentials: dict[str, str], request_id: str) -> dict | None:
    """An answer to `request_id` on this system's own replies topic (keyed by request
    id); a request sent again is answered again, naming the same meeting."""
    consumer = Consumer(
        {
            **connection(credentials),
            "group.id": f"{credentials['username']}-answers",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([credentials["replies_topic"]])
    deadline = time.monotonic() + ANSWER_WAIT_SECONDS
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                raise KafkaException(message.error())
            if message.key() != request_id.encode():
                continue
            reply: dict = json.loads(message.value())
            return reply
    finally:
        consumer.close()
    return None


def main(credentials_file: str, meeting_file: str, request_id: str) -> int:
    credentials = json.loads(Path(credentials_file).read_text(encoding="utf-8"))
    meeting = json.loads(Path(meeting_file).read_text(encoding="utf-8"))
    send(credentials, meeting, request_id)
    found = answer(credentials, request_id)
    print(json.dumps(found, ensure_ascii=False, indent=2))
    if found is None:
        return 2
    return 0 if found["type"] == "SubmissionAccepted" else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
