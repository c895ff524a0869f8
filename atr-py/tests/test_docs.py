"""The asfquart example of docs/python.md works as written."""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import time
from typing import Any

import pytest

import atr
from conftest import REPO

pytest.importorskip("asfquart")


def example() -> str:
    text = (REPO / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "docs/python.md has python examples"
    first = blocks[0]
    assert 15 <= len(first.strip().splitlines()) <= 30, "the example stays about 20 lines"
    return first


def test_the_documented_app_works(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ATR_DATABASE_URL", raising=False)
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(example(), "docs/python.md", "exec"), namespace)
    app = namespace["app"]
    app.config["SESSION_COOKIE_SECURE"] = False
    root = atr.Principal.committer("root")

    async def main() -> None:
        # The platform holds a committee, a project and a draft; the app reads them.
        async with atr.connect(None, data_dir=tmp_path, admins=["root"]) as setup:
            await setup.put_committee(root, "httpd", name="Apache HTTP Server", pmc_members=["alice"])
            await setup.create_project(root, "httpd", committee="httpd", name="Apache HTTP Server")
            alice = atr.Principal.committer("alice")
            await setup.start_release(alice, "httpd", "2.4.68")
            draft = await setup.release("httpd", "2.4.68", principal=alice)
        async with app.test_app() as test_app:
            client = test_app.test_client()
            assert (await client.get("/httpd/httpd/drafts")).status_code == 302
            async with client.session_transaction() as stored:
                stored[app.app_id] = {"uid": "alice", "pmcs": ["httpd"], "projects": [], "uts": time.time()}
            answer = await client.get("/httpd/httpd/drafts")
            assert answer.status_code == 200
            assert await answer.get_json() == {"user": "alice", "drafts": [draft.to_dict()]}
            async with client.session_transaction() as stored:
                stored[app.app_id] = {"uid": "carol", "pmcs": [], "projects": ["httpd"], "uts": time.time()}
            answer = await client.get("/httpd/httpd/drafts")
            assert answer.status_code == 403
            assert (await answer.get_json())["error"]["code"] == "forbidden"
        assert app.extensions["atr"].handle.closed

    asyncio.run(main())
