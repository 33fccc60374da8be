"""Inspection's HTTP routes, a module-level router per resource: each route parses,
calls a use case (`request.app.state.inspection`) and renders.

Times are stored in UTC and shown in the province's time zone (its policy's `timezone`)."""
