"""Shared fixtures: fresh databases on every configured engine (SQLite always, PostgreSQL when
ATR_TEST_DATABASE_URL names a server where the user may create databases), and a real task
runner (`atr worker`, from ATR_BIN) with the real signed httpd release (ATR_HTTPD_FIXTURE)."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@dataclass
class Database:
    engine: str
    url: str | None
    data_dir: pathlib.Path


def _engines() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get("ATR_TEST_DATABASE_URL") else ["sqlite"]


def _psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, timeout=60)


@pytest.fixture(params=_engines())
def database(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[Database]:
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        yield Database("sqlite", None, data_dir)
        return
    admin_url = os.environ["ATR_TEST_DATABASE_URL"]
    name = f"atr_py_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    _psql(admin_url, f"CREATE DATABASE {name}")
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield Database("postgres", f"{base}/{name}", data_dir)
    finally:
        _psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def drop_database(url: str) -> None:
    """Drops the database of `url` under its open connections."""
    admin_url = os.environ["ATR_TEST_DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    _psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def atr_binary() -> pathlib.Path:
    """The `atr` binary (`ATR_BIN`, which scripts/test-python sets), or a skip saying why not."""
    named = os.environ.get("ATR_BIN")
    if not named:
        pytest.skip("ATR_BIN names no atr binary (scripts/test-python sets it and builds the binary)")
    path = pathlib.Path(named)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"ATR_BIN={named} is not an executable atr binary (cargo build -p atr-cli --bin atr)")
    return path


def httpd_release() -> pathlib.Path:
    """The real signed Apache httpd 2.4.68 release (`ATR_HTTPD_FIXTURE`), or a skip saying why not."""
    named = os.environ.get("ATR_HTTPD_FIXTURE")
    if not named:
        pytest.skip("ATR_HTTPD_FIXTURE names no folder (scripts/fetch-httpd-release.sh DIR makes one)")
    folder = pathlib.Path(named)
    for name in ("httpd-2.4.68.tar.gz", "httpd-2.4.68.tar.gz.asc", "KEYS"):
        if not (folder / name).is_file():
            pytest.skip(f"{folder / name} is missing: run scripts/fetch-httpd-release.sh {folder}")
    return folder


#: How long a worker may take to start, and to stop after SIGTERM, in seconds.
WORKER_START_SECS = 120
WORKER_STOP_SECS = 30


@pytest.fixture
def start_worker(tmp_path: pathlib.Path) -> Iterator[Callable[[Database], subprocess.Popen[bytes]]]:
    """Starts `atr worker` (a real task runner) on a test's database and data folder, once the
    test opened them, and stops it after the test: SIGTERM, then a kill after a bounded wait."""
    binary = atr_binary()
    started: list[tuple[subprocess.Popen[bytes], pathlib.Path]] = []

    def start(db: Database) -> subprocess.Popen[bytes]:
        log = tmp_path / f"worker-{len(started)}.log"
        command = [str(binary), "worker", "--data-dir", str(db.data_dir), "--concurrency", "2"]
        if db.url is not None:
            command += ["--database-url", db.url]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATR_")}
        env["ATR_LOG"] = "warn"
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        started.append((process, log))
        deadline = time.monotonic() + WORKER_START_SECS
        while b"running tasks" not in log.read_bytes():
            if process.poll() is not None:
                raise AssertionError(f"atr worker exited with {process.returncode}: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"atr worker did not start in {WORKER_START_SECS} s: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        return process

    yield start
    for process, log in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=WORKER_STOP_SECS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=WORKER_STOP_SECS)
                raise AssertionError(f"atr worker ignored SIGTERM for {WORKER_STOP_SECS} s: {log.read_text()[-2000:]}")
        assert process.returncode == 0, f"atr worker ended with {process.returncode}: {log.read_text()[-2000:]}"


def create_account(db: Database, uid: str) -> None:
    """Creates a local account (and so the platform's person record) with `atr account`, as an
    operator does: personal access tokens belong to persons the platform knows."""
    command = [str(atr_binary()), "account", uid, "--data-dir", str(db.data_dir)]
    if db.url is not None:
        command += ["--database-url", db.url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATR_")}
    env["ATR_ACCOUNT_PASSWORD"] = "a long enough password"
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert f"account {uid} created" in done.stdout, done.stdout
