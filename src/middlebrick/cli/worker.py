"""`middlebrick worker`: a Celery worker that runs the dashboard's scans and fleet scans from the
broker in MIDDLEBRICK_BROKER_URL, writing results to the database in MIDDLEBRICK_DATABASE_URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from middlebrick.cli import app, boundary, stderr
from middlebrick.errors import ConfigError


@app.command("worker")
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="Scans at once (processes) [default: CPU count]."),
    ] = None,
    beat: Annotated[
        bool,
        typer.Option(
            "--beat",
            help="Also run the scheduler (Celery beat: scheduled scans, the sweep). Run exactly "
            "one scheduler for a deployment.",
        ),
    ] = False,
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
) -> None:
    """Run scans from the broker (Celery on Redis): start any number, on any machines."""
    with boundary():
        try:
            from middlebrick.web import workers
            from middlebrick.web.settings import WebSettings
            from middlebrick.web.store import Store
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"workers need the web and worker extras ({exc.name} is missing): "
                "pip install 'middlebrick[web,worker]'"
            ) from None
        settings = WebSettings.from_env(os.environ)
        celery = workers.configure(settings)
        store = Store(settings.database_url, session_hours=settings.session_hours)
        store.migrate()  # before the fork: every process sees the current schema
        store.close()
        argv = [
            "worker",
            f"--loglevel={loglevel}",
            f"--concurrency={concurrency or os.cpu_count() or 1}",
            "--pool=prefork",
            "--queues=middlebrick",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=middlebrick-{os.getpid()}@%h",
        ]
        if beat:
            schedule = Path(settings.database_url.partition("///")[2] or ".").parent
            argv += ["--beat", f"--schedule={_beat_file(schedule)}"]
        stderr.print(f"worker: broker {_safe(settings.broker_url or '')}, database {store}")
    celery.worker_main(argv)


def _beat_file(folder: Path) -> Path:
    """Where beat keeps its last-run times: beside a SQLite database, else the working dir."""
    return (folder if folder.is_dir() else Path.cwd()) / "middlebrick-beat-schedule"


def _safe(url: str) -> str:
    """The broker URL without its password."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at:
        return url
    user = userinfo.partition(":")[0]
    return f"{scheme}{sep}{user + ':' if user else ''}***@{host}"
