"""A throwaway PostgreSQL server for tests: `initdb` into a temporary folder, `pg_ctl start` on a
free loopback port, stopped afterwards. Debian's `postgresql` package provides the binaries
(.ci/run installs it); as root they run as the `postgres` user, which initdb requires."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server and the SQLAlchemy URL of an empty database on it. Its folder is a
    fresh one in the system's temporary directory (pytest's are private to root, and initdb
    must run as another user there), removed afterwards."""
    bin_dir = binaries()
    assert bin_dir is not None, "PostgreSQL is not installed"
    folder = Path(tempfile.mkdtemp(prefix="middlebrick-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()

    def run(*argv: str) -> None:
        subprocess.run([*as_user, *argv], check=True, capture_output=True, timeout=60)

    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "middlebrick", "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
        str(folder / "log"), "start")  # fmt: skip
    try:
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "middlebrick",
            "middlebrick")  # fmt: skip
        yield f"postgresql+psycopg://middlebrick@127.0.0.1:{port}/middlebrick"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
