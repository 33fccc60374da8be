"""Notification's HTTP routes, a module-level router per resource; dependencies come from
`app.state` (set by `app.build`)."""
