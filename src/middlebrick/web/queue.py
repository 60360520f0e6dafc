"""The dashboard's runner when a broker is configured: scans go to Celery workers
(`web/workers.py`) instead of the dashboard's own loop. Same interface as `jobs.JobRunner`, so the
pages and the API do not know which one runs their scans.

The broker keeps what is queued and the workers hold what runs, so a dashboard restart neither
loses nor interrupts anything. Credentials given with a scan are sealed into the database for
the worker (`MIDDLEBRICK_SECRET_KEY` required) and deleted when the scan ends.
"""

from __future__ import annotations

import logging

from kombu.exceptions import OperationalError

from middlebrick.errors import ConfigError
from middlebrick.web import workers
from middlebrick.web.jobs import CANCELLED, Credentials
from middlebrick.web.sealing import Sealer, required
from middlebrick.web.settings import WebSettings
from middlebrick.web.store import Recovery, ScanStatus, Store

UNQUEUED = "the broker could not be reached to queue it ({reason})"
log = logging.getLogger("middlebrick.web")


class CeleryRunner:
    def __init__(self, store: Store, settings: WebSettings, sealer: Sealer | None = None) -> None:
        self.store = store
        self.sealer = sealer
        workers.configure(settings)

    async def start(self) -> Recovery:
        return Recovery(requeue=[], interrupted=[])  # the broker and the workers keep it all

    async def stop(self) -> None:
        return None

    def submit(self, scan_id: str, credentials: Credentials | None = None) -> None:
        """Seal the credentials for the worker, then queue the scan's id (and nothing else)."""
        try:
            if credentials is not None and credentials.kinds():
                sealer = required(self.sealer, "a scan with credentials run by workers")
                self.store.put_secret(scan_id, sealer.seal(credentials.to_secret()))
            workers.scan_task.apply_async((scan_id,), retry=False)
        except ConfigError as exc:
            self.store.fail(scan_id, str(exc))
        except OperationalError as exc:
            reason = " ".join(str(exc).split())[:200]
            log.error("scan %s not queued: %s", scan_id, reason)
            self.store.fail(scan_id, UNQUEUED.format(reason=reason))

    def cancel(self, scan_id: str) -> bool:
        """End the scan in the store; its worker sees it at its next heartbeat and stops."""
        return self.store.cancel(scan_id, CANCELLED)

    def is_active(self, scan_id: str) -> bool:
        scan = self.store.peek(scan_id)
        return scan is not None and scan.status in (ScanStatus.QUEUED, ScanStatus.RUNNING)
