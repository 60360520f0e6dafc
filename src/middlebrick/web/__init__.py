"""The dashboard (`middlebrick serve`): scans, history, reports and trends in the browser, on an
embedded store (SQLite by default, PostgreSQL by URL) with an in-process job runner."""
