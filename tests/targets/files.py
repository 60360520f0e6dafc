"""Servers that expose files (with planted secrets) and servers that only look as if they do."""

from __future__ import annotations

from flask import Flask, Response

DB_PASSWORD = "planted-db-pass-4f1c9a"
SECRET_KEY = "planted-secret-key-77d2e0"
LOGGED_TOKEN = "cGxhbnRlZDpsb2dnZWQtcGFzcy05OWE="

FILES = {
    "/.env": f"DATABASE_URL=postgres://app:{DB_PASSWORD}@db/app\nSECRET_KEY={SECRET_KEY}\nDEBUG=0\n",
    "/.git/config": '[core]\n\trepositoryformatversion = 0\n\tbare = false\n[remote "origin"]\n',
    "/.git/HEAD": "ref: refs/heads/main\n",
    "/app.py.bak": (
        "from flask import Flask\nimport os\n\napp = Flask(__name__)\n"
        f'app.config["SECRET_KEY"] = "{SECRET_KEY}"\n\ndef create_app():\n    return app\n'
    ),
    "/backup.sql": (
        "CREATE TABLE users (id int, email text);\nINSERT INTO users VALUES (1, 'a@b');\n"
    ),
    "/logs/app.log": (
        "2026-11-01 10:00:01,123 INFO api: GET /orders 200\n"
        f"2026-11-01 10:00:02,456 DEBUG api: headers={{'Authorization': 'Basic {LOGGED_TOKEN}'}}\n"
        "2026-11-01 10:00:03,789 ERROR api: GET /reports 500\n"
    ),
    "/error.log": "2026-11-01 10:00:01 ERROR boom\n2026-11-01 10:00:02 WARNING disk 91%\n",
}


def leaky_files() -> Flask:
    app = Flask("leaky-files")

    @app.get("/")
    def index() -> Response:
        return Response('{"service": "orders"}', mimetype="application/json")

    for path, content in FILES.items():
        app.add_url_rule(
            path,
            endpoint=path,
            view_func=lambda content=content: Response(content, mimetype="text/plain"),
        )
    return app


def everything_200(body: str, mimetype: str) -> Flask:
    """A soft-404 server: every path answers 200 with the same page."""
    app = Flask("everything-200")

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def page(path: str) -> Response:
        return Response(body, mimetype=mimetype)

    return app


def spa_shell() -> Flask:
    """A single-page app: every unknown path gets the HTML shell, with a per-request nonce."""
    app = Flask("spa")
    counter = {"n": 0}

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def shell(path: str) -> Response:
        counter["n"] += 1
        return Response(
            f'<!doctype html><html><script nonce="{counter["n"]}"></script>'
            "<body>DB_HOST=x\nDB_USER=y\n</body></html>",
            mimetype="text/html",
        )

    return app
