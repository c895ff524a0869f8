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
    await h.create_project(ROOT, "httpd", committee="httpd", name="HTTP Server")
    await h.start_release(ROOT, "httpd", "1.0")
    (data / "f.txt").write_text("x")
    new = await h.upload(ROOT, "httpd", "1.0", {"f.txt": data / "f.txt"})
    # Reads in flight, and waits whose ends are spread over the next 0.2 s: the process exits
    # while Rust is still finishing them.
    pending = [asyncio.ensure_future(h.committees()) for _ in range(150)]
    pending += [asyncio.ensure_future(h.wait(ROOT, new.analyze_task, timeout=i / 750)) for i in range(150)]
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
    for attempt in range(3):
        data = tmp_path / f"data-{attempt}"
        done = subprocess.run(
            [sys.executable, str(script), str(data), mode], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (attempt, done.returncode, done.stderr[-2000:])
        for bad in ("panicked", "Fatal Python error", "PanicException", "Segmentation"):
            assert bad not in done.stderr, (attempt, done.stderr[-2000:])
        if mode == "exit-after-loop":
            assert "exiting 300" in done.stdout
