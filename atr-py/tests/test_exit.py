"""The interpreter exits cleanly while operations are in flight: the runtime is stopped at exit
before the interpreter is finalized, so no runtime thread calls into a dying interpreter."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

SCRIPT = r"""
import asyncio, pathlib, sys
import atr

ROOT = atr.Principal.committer("root")

async def main(data, mode):
    h = await atr.connect(None, data_dir=data, admins=["root"])
    await h.put_committee(ROOT, "httpd", name="HTTP Server", release_managers=["root"])
    # Many reads in flight at once; the loop ends with most of them still running in Rust.
    pending = [asyncio.ensure_future(h.committees()) for _ in range(300)]
    await asyncio.sleep(0.01)
    if mode == "exit-in-loop":
        sys.exit(0)
    return pending

data, mode = pathlib.Path(sys.argv[1]), sys.argv[2]
loop = asyncio.new_event_loop()
pending = loop.run_until_complete(main(data, mode))
# Leave the loop open with operations pending, and exit.
print("exiting", len(pending), flush=True)
"""


@pytest.mark.parametrize("mode", ["exit-after-loop", "exit-in-loop"])
def test_exit_under_load_is_clean(tmp_path: pathlib.Path, mode: str) -> None:
    script = tmp_path / "load.py"
    script.write_text(SCRIPT)
    for attempt in range(4):
        data = tmp_path / f"data-{attempt}"
        done = subprocess.run(
            [sys.executable, str(script), str(data), mode], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (attempt, done.returncode, done.stderr[-2000:])
        for bad in ("panicked", "Fatal Python error", "PanicException", "Segmentation"):
            assert bad not in done.stderr, (attempt, done.stderr[-2000:])
        if mode == "exit-after-loop":
            assert "exiting 300" in done.stdout
