"""`python -m <service>` lowers its own CPU priority as its settings say, before serving."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_a_service_runs_at_the_priority_its_settings_give() -> None:
    script = textwrap.dedent(
        """
        import os, sys
        from hnth_kit import runner
        from hnth_kit.settings import ServiceSettings

        started_at = os.nice(0)

        def build(settings):  # stands in for the service: reports how much lower it runs
            print(os.nice(0) - started_at)
            sys.exit(0)

        runner.main(ServiceSettings, build)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "HNTH_CPU_NICE": "7", "HNTH_POLICY_DIR": "/nonexistent"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "7"
