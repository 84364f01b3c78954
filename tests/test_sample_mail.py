"""The sample-mail builders serve the demo, tests and bench only, never the cron path."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import Workspace, make_forward


def test_cron_run_does_not_import_the_builders(ws: Workspace) -> None:
    ws.deliver(make_forward())
    code = (
        "import sys; from nudger.cli import cli\n"
        "try:\n    cli(['run', '--now', '2026-11-23T09:05'])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('nudger.ops.sample_mail' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **ws.env})
    assert out.stdout.splitlines()[-1] == "False"
    assert len(ws.sent()) == 2
