"""The console's pages, a router per page (or a few close ones); `app.build` includes them."""

from hnth_console.pages import (
    account,
    accounts,
    board,
    clerk,
    dead_letters,
    incidents,
    meetings,
    notices,
    reports,
    schedule,
    signin,
    signin_sso,
)

ROUTERS = (
    # technician's pages

    # clerk's pages
    clerk.router,

    # duty officer's pages

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
