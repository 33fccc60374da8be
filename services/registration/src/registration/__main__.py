"""`python -m registration` serves; `python -m registration token ...` prints a token."""

from __future__ import annotations

import argparse
from datetime import timedelta

from hnth_kit.auth import Role, SigningKeys, issue_token
from hnth_kit.runner import main
from hnth_kit.settings import ServiceSettings
from registration.app import RegistrationSettings, build


def token_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m registration token")
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--tenant", default="tuyen-quang")
    parser.add_argument("--unit")
    parser.add_argument("--endpoint")
    parser.add_argument("--subject")
    parser.add_argument("--hours", type=float, default=12.0, help="validity (default 12 h)")
    return parser


def token_of(keys: SigningKeys, opts: argparse.Namespace) -> str:
    """The token the command's arguments ask for (ValueError for a scope the role lacks)."""
    return issue_token(
        keys,
        role=Role(opts.role),
        tenant=opts.tenant,
        unit=opts.unit,
        endpoint=opts.endpoint,
        subject=opts.subject,
        ttl=timedelta(hours=opts.hours),
    )


def token(settings: ServiceSettings, args: list[str]) -> int:
    assert isinstance(settings, RegistrationSettings)
    parser = token_parser()
    opts = parser.parse_args(args)
    if not (settings.policy_dir / f"{opts.tenant}.yaml").is_file():
        known = sorted(p.stem for p in settings.policy_dir.glob("*.yaml"))
        parser.error(f"no policy for province {opts.tenant!r}; known: {', '.join(known)}")
    try:
        print(token_of(settings.keys()(), opts))
    except ValueError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    main(RegistrationSettings, build, {"token": token})
