"""Notification's use cases: `notices` plans and shows notices (events, timers, requests);
`sending` sends one queued notice through the channel adapters passed in."""

from notification.usecases.notices import Notifications, Snapshot, Store, TimerQueue, may_see
from notification.usecases.sending import Attempted, Delivery, DeliveryConfig, DeliveryStore

__all__ = [
    "Attempted",
    "Delivery",
    "DeliveryConfig",
    "DeliveryStore",
    "Notifications",
    "Snapshot",
    "Store",
    "TimerQueue",
    "may_see",
]
