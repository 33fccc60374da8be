"""The console's pages, a router per page (or a few close ones); `app.build` includes them."""

from hnth_console.pages import (
    access,
    account,
    accounts,
    board,
    calendar,
    clerk,
    dead_letters,
    directory,
    groups,
    incidents,
    meetings,
    notices,
    reports,
    schedule,
    signin,
    signin_sso,
    technician,
    technicians,
)

ROUTERS = (
    # technician's pages
    technician.router,
    # clerk's pages
    clerk.router,
    access.router,
    technicians.router,
    # duty officer's pages
    calendar.router,
    directory.router,
    groups.router,
    signin.router,
    signin_sso.router,
    schedule.router,
    meetings.router,
    board.router,
    notices.router,
    incidents.router,
    reports.router,
    dead_letters.router,
    account.router,
    accounts.router,
)
"""In the order the routes were always matched (`/meetings/new` before `/meetings/{id}`)."""
