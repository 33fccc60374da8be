"""The envelope every HNTH event carries, at the top level of its JSON message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Self
from uuid import UUID, uuid4

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    """The current time, aware and in UTC (adapters only: domain code receives `now`)."""
    return datetime.now(UTC)


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 at +14:00: a ValueError makes it a field error, not a 500
        raise ValueError(
            "ngoài khoảng thời gian hợp lệ / outside the times that can be stored"
        ) from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An aware datetime, normalised to UTC: naive datetimes are refused."""


class Model(BaseModel):
    """Base of every contract model: frozen, strict about types, tolerant of unknown fields.

    Unknown fields are ignored so that a newer producer never breaks an older consumer.
    Decode with `model_validate_json`: strict mode still reads ISO datetimes and UUIDs
    from JSON strings.
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore")


class Event(Model):
    """Fields common to every event.

    `correlation_id` names the flow (usually the meeting id); `causation_id` is the
    `event_id` of the event that caused this one (None for a person's or system's request).
    """

    event_id: UUID = Field(default_factory=uuid4)
    type: str
    schema_version: int = 1
    occurred_at: UtcDatetime
    tenant: str = Field(min_length=2, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    correlation_id: str = Field(min_length=1, max_length=128)
    causation_id: str | None = None
    producer: str = Field(min_length=1, max_length=64)

    @classmethod
    def create(cls, *, cause: Event | None = None, **fields: Any) -> Self:
        """Build an event, taking tenant, correlation and causation from `cause` when given."""
        if cause is not None:
            fields.setdefault("tenant", cause.tenant)
            fields.setdefault("correlation_id", cause.correlation_id)
            fields.setdefault("causation_id", str(cause.event_id))
        fields.setdefault("occurred_at", utc_now())
        return cls.model_validate(fields, strict=False)

    def to_json(self) -> bytes:
        """The UTF-8 JSON message body."""
        return self.model_dump_json().encode()
