"""Notification's rules, pure: who is told what, when, and how a delivery is judged.

A module per concept: `notices` (what a notice is, its key, its recipients),
`meetings` (this service's copy of a meeting), `planning` (the notices an assignment,
cancellation, rejection or check outcome causes), `escalations`, `reminders`, `timers`,
`reports`, `resends`, `access` (the one-time link to set a password), `attempts` (how a
delivery attempt is judged) and `signing` (acknowledgement links, webhook signatures,
Message-IDs).

Rule 2 (DOMAIN.md): the IT department, the line provider and the power company are told
in writing at least `notice.lead_time` before the meeting, and every endpoint in time to
prepare. Rule 3: technicians finish checks by `check.lead_time`; those who have not are
reminded `reminder.before_check` ahead. Recipients, lead times and the escalation target
are read from the province policy; every notice names the rule and its source.
"""
