"""The async handle on SQLite and PostgreSQL: reads, writes authorized in Rust, tasks, and the
refusals, each a typed AtrError."""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import atr
import atr.blocking
from atr import _atr
from conftest import Database, drop_database

ROOT = atr.Principal.committer("root")
ALICE = atr.Principal.committer("alice", member_of=["httpd"])
RITA = atr.Principal.committer("rita")
CAROL = atr.Principal.committer("carol", participant_of=["httpd"])


def run(main: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(main(), 120))


async def seeded(db: Database) -> atr.Handle:
    handle = await atr.connect(db.url, data_dir=db.data_dir, admins=["root"])
    await handle.put_committee(
        ROOT,
        "httpd",
        name="Apache HTTP Server",
        pmc_members=["alice"],
        committers=["carol"],
        release_managers=["rita"],
    )
    await handle.create_project(ROOT, "httpd", committee="httpd", name="Apache HTTP Server")
    return handle


def artifacts(tmp: pathlib.Path) -> dict[str, pathlib.Path]:
    tarball = tmp / "httpd-2.4.68.tar.gz"
    tarball.write_bytes(b"not really a tarball\n" * 1000)
    notes = tmp / "CHANGES.txt"
    notes.write_text("Changes with Apache 2.4.68\n")
    return {"httpd-2.4.68.tar.gz": tarball, "CHANGES.txt": notes}


def test_reads_and_writes_through_the_services(database: Database, tmp_path: pathlib.Path) -> None:
    async def main() -> None:
        async with await seeded(database) as h:
            committees = await h.committees()
            assert [c.key for c in committees] == ["httpd"]
            httpd = committees.items[0]
            assert httpd.pmc_members == ("alice",) and httpd.release_managers == ("rita",)
            assert httpd.to_dict()["committers"] == ["carol"]
            assert (await h.project("httpd")).committee == "httpd"

            started = await h.start_release(RITA, "httpd", "2.4.68")
            assert (started.phase, started.created_by, started.latest_revision) == ("draft", "rita", None)
            assert started.created_at.tzinfo is dt.timezone.utc
            assert started.to_dict()["created_at"] == int(started.created_at.timestamp())

            new = await h.upload(RITA, "httpd", "2.4.68", artifacts(tmp_path), description="first")
            assert new.revision.number == 1 and new.revision.description == "first"
            sizes = {f.path: f.size for f in new.revision.files}
            assert sizes == {"httpd-2.4.68.tar.gz": 21000, "CHANGES.txt": 27}
            assert new.analyze_task.kind == "analyze" and new.analyze_task.status == "queued"

            release = await h.release("httpd", "2.4.68", principal=RITA)
            assert release.latest_revision == 1 and release.key == atr.ReleaseKey("httpd", None, "2.4.68")
            wire = release.to_dict()
            assert set(wire) >= {"key", "committee", "phase", "state", "latest_revision", "created_at", "lock_version"}
            assert wire["key"] == {"project": "httpd", "product": None, "version": "2.4.68"}

            revisions = await h.revisions("httpd", "2.4.68", principal=RITA)
            assert [r.number for r in revisions] == [1] and revisions.next is None
            assert await h.check_results("httpd", "2.4.68", 1, principal=RITA) == []

            events = await h.events(ALICE, project="httpd")
            kinds = [e.kind for e in events]
            assert kinds[:2] == ["revision_created", "release_started"], kinds
            assert events.items[0].release == release.key

            drafts = await h.releases("httpd", principal=RITA)
            assert [r.key.version for r in drafts] == ["2.4.68"]
            # Before its vote a release is read only by whom the core lets read drafts: to anyone
            # else it is not there at all.
            assert [r.key.version for r in await h.releases("httpd")] == []
            with pytest.raises(atr.NotFound):
                await h.release("httpd", "2.4.68")
            with pytest.raises(atr.NotFound):
                await h.revisions("httpd", "2.4.68", principal=atr.Principal.committer("mallory"))
            assert [r.key.version for r in await h.releases("httpd", stage="current")] == []

    run(main)


def test_keyset_pages(database: Database) -> None:
    async def main() -> None:
        async with await seeded(database) as h:
            for version in ["1.0.0", "1.1.0", "2.0.0"]:
                await h.start_release(RITA, "httpd", version)
            first = await h.releases("httpd", principal=RITA, limit=2)
            assert [r.key.version for r in first] == ["2.0.0", "1.1.0"] and first.next == "1.1.0"
            second = await h.releases("httpd", principal=RITA, limit=2, after=first.next)
            assert [r.key.version for r in second] == ["1.0.0"] and second.next is None

    run(main)


def test_writes_are_authorized_in_rust(database: Database, tmp_path: pathlib.Path) -> None:
    async def main() -> None:
        async with await seeded(database) as h:
            with pytest.raises(atr.Forbidden) as refused:
                await h.start_release(CAROL, "httpd", "2.4.68")
            assert refused.value.details["activity"] == "manage_release"
            with pytest.raises(atr.NotAuthenticated):
                await h.start_release(atr.Principal.anonymous(), "httpd", "2.4.68")
            with pytest.raises(atr.Forbidden):
                await h.put_committee(ALICE, "tomcat", name="Tomcat")
            # The session's committees do not count for writes: the platform's records do.
            outsider = atr.Principal.committer("mallory", member_of=["httpd"])
            with pytest.raises(atr.Forbidden):
                await h.start_release(outsider, "httpd", "2.4.68")
            with pytest.raises(atr.NotFound):
                await h.start_release(RITA, "nothing", "1.0")
            await h.start_release(RITA, "httpd", "2.4.68")
            with pytest.raises(atr.Conflict):
                await h.start_release(RITA, "httpd", "2.4.68")
            with pytest.raises(atr.InvalidInput) as missing:
                await h.upload(RITA, "httpd", "2.4.68", {"a.txt": tmp_path / "missing.txt"})
            assert missing.value.code == "unreadable_file"
            (tmp_path / "x").write_text("x")
            with pytest.raises(atr.InvalidInput):
                await h.upload(RITA, "httpd", "2.4.68", {"../escape": tmp_path / "x"})
            with pytest.raises(atr.InvalidInput):
                await h.upload(RITA, "httpd", "2.4.68", {})
            await h.upload(RITA, "httpd", "2.4.68", {"x.txt": tmp_path / "x"})
            # No checks ran: the core refuses the vote.
            with pytest.raises(atr.Conflict) as early:
                await h.start_vote(RITA, "httpd", "2.4.68", 1)
            assert early.value.code == "invalid_transition"
            with pytest.raises(atr.InvalidInput):
                await h.cast_ballot(ALICE, "httpd", "2.4.68", "+2")
            with pytest.raises(atr.InvalidInput):
                await h.release("httpd", "not a version!")
            with pytest.raises(atr.InvalidInput):
                await h.releases("httpd", limit=0)
            with pytest.raises(atr.InvalidInput):
                await h.start_release("rita", "httpd", "3.0")  # type: ignore[arg-type]

    run(main)


def test_tasks_and_wait(database: Database, tmp_path: pathlib.Path) -> None:
    async def main() -> None:
        async with await seeded(database) as h:
            await h.start_release(RITA, "httpd", "2.4.68")
            new = await h.upload(RITA, "httpd", "2.4.68", artifacts(tmp_path))
            task = await h.task(RITA, new.analyze_task)
            assert (task.id, task.status, task.ended) == (new.analyze_task.id, "queued", False)
            assert task.to_dict()["kind"] == "analyze"
            # No worker runs here: the task stays queued.
            with pytest.raises(TimeoutError):
                await h.wait(RITA, task, timeout=0.3)
            waiting = asyncio.ensure_future(h.wait(RITA, task.id, timeout=30))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            cancelled = await h.cancel_task(RITA, task)
            assert cancelled.status == "cancelled"
            ended = await waiting
            assert ended.status == "cancelled" and ended.ended
            with pytest.raises(atr.NotFound):
                await h.task(RITA, 999_999)
            with pytest.raises(atr.InvalidInput):
                await h.wait(RITA, task, timeout=-1)

    run(main)


async def _live_drops_to(count: int) -> int:
    deadline = time.monotonic() + 5
    while _atr._live_operations() > count and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return _atr._live_operations()


def test_cancelling_drops_the_rust_future(database: Database, tmp_path: pathlib.Path) -> None:
    async def main() -> None:
        async with await seeded(database) as h:
            await h.start_release(RITA, "httpd", "2.4.68")
            new = await h.upload(RITA, "httpd", "2.4.68", artifacts(tmp_path))
            assert await _live_drops_to(0) == 0
            waits = [asyncio.ensure_future(h.wait(RITA, new.analyze_task, timeout=60)) for _ in range(5)]
            await asyncio.sleep(0.3)
            assert _atr._live_operations() == 5
            for w in waits:
                w.cancel()
            for w in waits:
                with pytest.raises(asyncio.CancelledError):
                    await w
            # The waits' futures were dropped long before their 60 s timeout.
            assert await _live_drops_to(0) == 0
            # The handle still answers.
            assert (await h.task(RITA, new.analyze_task)).status == "queued"

    run(main)


def test_a_closed_handle_refuses(database: Database) -> None:
    async def main() -> None:
        async with atr.connect(database.url, data_dir=database.data_dir) as h:
            assert not h.closed
        assert h.closed
        with pytest.raises(atr.Unavailable) as refused:
            await h.committees()
        assert refused.value.code == "closed" and refused.value.http_status == 503
        await h.close()

    run(main)


def test_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")

    async def main(data: pathlib.Path) -> list[str]:
        async with atr.connect(None, data_dir=data, admins=["root"]) as h:
            await h.put_committee(ROOT, "httpd", name="HTTP Server", pmc_members=["alice"])
            return [c.key for c in await h.committees()]

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        assert uvloop.run(main(pathlib.Path(tmp))) == ["httpd"]


def test_bad_connections(tmp_path: pathlib.Path) -> None:
    async def main() -> None:
        with pytest.raises(atr.InvalidInput):
            await atr.connect("mysql://localhost/x", data_dir=tmp_path)
        with pytest.raises(atr.InvalidInput):
            await atr.connect(None, data_dir=tmp_path, admins=["Not A Uid"])
        with pytest.raises(atr.InvalidInput):
            await atr.connect(None, data_dir=42)  # type: ignore[arg-type]
        started = time.monotonic()
        with pytest.raises(atr.Unavailable):
            await atr.connect("postgres://postgres@127.0.0.1:1/none", data_dir=tmp_path)
        assert time.monotonic() - started < 60

    run(main)


def test_a_database_that_went_away(database: Database) -> None:
    if database.engine != "postgres":
        pytest.skip("dropping a database under open connections is a PostgreSQL test")
    assert database.url is not None

    async def main() -> None:
        async with await seeded(database) as h:
            assert len(await h.committees()) == 1
            drop_database(database.url)
            with pytest.raises(atr.Unavailable) as gone:
                await h.committees()
            assert gone.value.http_status == 503

    run(main)


def test_blocking_handle(tmp_path: pathlib.Path) -> None:
    with atr.blocking.connect(None, data_dir=tmp_path, admins=["root"]) as h:
        h.put_committee(ROOT, "httpd", name="HTTP Server", release_managers=["rita"])
        h.create_project(ROOT, "httpd", committee="httpd", name="HTTP Server")
        assert h.start_release(RITA, "httpd", "1.0.0").phase == "draft"
        assert [r.key.version for r in h.releases("httpd", principal=RITA)] == ["1.0.0"]
        with pytest.raises(atr.Forbidden):
            h.start_release(CAROL, "httpd", "1.1.0")

    async def inside() -> None:
        with pytest.raises(RuntimeError, match="running event loop"):
            atr.blocking.connect(None, data_dir=tmp_path)
        with pytest.raises(RuntimeError, match="running event loop"):
            h.committees()

    asyncio.run(inside())


def _generated_key(home: pathlib.Path, uid: str) -> str:
    """A fresh OpenPGP public key, ASCII-armored, made by gpg in a throwaway home."""
    import shutil
    import subprocess

    if shutil.which("gpg") is None:
        pytest.skip("gpg makes the test's OpenPGP key")
    home.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "1y"],
        env=env, check=True, capture_output=True, timeout=60,
    )
    out = subprocess.run(["gpg", "--armor", "--export", uid], env=env, check=True, capture_output=True, timeout=60)
    return out.stdout.decode()


def test_signing_keys(database: Database, tmp_path: pathlib.Path) -> None:
    armored = _generated_key(tmp_path / "gnupg", "Alice Example <alice@apache.org>")

    async def main() -> None:
        async with await seeded(database) as h:
            with pytest.raises(atr.Forbidden):
                await h.add_key(CAROL, "httpd", armored)
            added = await h.add_key(ALICE, "httpd", armored)
            assert added.committees == ("httpd",) and added.owner == "alice"
            assert added.user_ids == ("Alice Example <alice@apache.org>",)
            assert len(added.fingerprint) == 40 and added.fingerprint.endswith(added.key_id)
            assert added.to_dict()["armored"].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
            listed = await h.keys("httpd")
            assert [k.fingerprint for k in listed] == [added.fingerprint]
            with pytest.raises(atr.InvalidInput) as refused:
                await h.add_key(ALICE, "httpd", "not a key")
            assert refused.value.code == "no_usable_key"
            with pytest.raises(atr.NotFound):
                await h.keys("tomcat")

    run(main)


def test_calls_never_block_the_loop(tmp_path: pathlib.Path) -> None:
    async def main() -> None:
        async with atr.connect(None, data_dir=tmp_path, admins=["root"]) as h:
            await h.put_committee(ROOT, "httpd", name="HTTP Server", release_managers=["root"])
            await h.create_project(ROOT, "httpd", committee="httpd", name="HTTP Server")
            await h.start_release(ROOT, "httpd", "1.0")
            (tmp_path / "f.txt").write_text("x")
            new = await h.upload(ROOT, "httpd", "1.0", {"f.txt": tmp_path / "f.txt"})
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            ticker = asyncio.ensure_future(tick())
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await h.wait(ROOT, new.analyze_task, timeout=0.5)
            elapsed = time.monotonic() - started
            ticker.cancel()
            # The loop ran the ticker all along: about one tick per 10 ms of the wait.
            assert elapsed >= 0.5 and ticks >= 20, (elapsed, ticks)

    run(main)


def test_to_dict_is_the_json_apis_shape(tmp_path: pathlib.Path) -> None:
    """Every data class's to_dict() has exactly the properties of the API's schema for it."""
    import json

    schemas = json.loads(_atr.openapi_document())["components"]["schemas"]
    armored = _generated_key(tmp_path / "gnupg", "Alice Example <alice@apache.org>")

    def holds(name: str, wire: dict[str, Any]) -> None:
        schema = schemas[name]
        assert set(wire) <= set(schema["properties"]), (name, set(wire) - set(schema["properties"]))
        assert set(schema.get("required", [])) <= set(wire), (name, set(schema.get("required", [])) - set(wire))

    async def main() -> None:
        async with atr.connect(None, data_dir=tmp_path / "data", admins=["root"]) as h:
            holds("Committee", (await h.put_committee(ROOT, "httpd", name="HTTP", pmc_members=["alice"], release_managers=["rita"])).to_dict())
            holds("Project", (await h.create_project(ROOT, "httpd", committee="httpd", name="HTTP")).to_dict())
            holds("Release", (await h.start_release(RITA, "httpd", "1.0")).to_dict())
            new = await h.upload(RITA, "httpd", "1.0", artifacts(tmp_path))
            holds("NewRevision", new.to_dict())
            holds("Revision", new.revision.to_dict())
            holds("Task", (await h.task(RITA, new.analyze_task)).to_dict())
            holds("SigningKey", (await h.add_key(ALICE, "httpd", armored)).to_dict())
            for event in await h.events(ALICE, project="httpd"):
                holds("Event", event.to_dict())

    run(main)
