"""APIs that return links: one puts credentials in their query strings, its twin returns the
links real APIs return (pagination cursors, signed storage URLs, OAuth authorize URLs)."""

from __future__ import annotations

from flask import Flask, Response, jsonify, redirect

RESET_TOKEN = "Zk3p9QwLx2Vb7Nc4Rt8Y"
ACCESS_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVlLTEy"
API_KEY = "9f8c7e6d5b4a39281706f5e4d3c2b1a0"


def links_api(*, leaky: bool) -> Flask:
    app = Flask("links-leaky" if leaky else "links-clean")

    @app.get("/")
    def index() -> Response:
        return jsonify(
            links={"reset": "/password-reset", "login": "/sso/callback", "files": "/files"}
        )

    @app.get("/password-reset")
    def reset() -> Response:
        if leaky:  # the reset link is handed to whoever asked, not e-mailed to the owner
            return jsonify(
                sent=True, reset_link=f"https://app.example.test/reset?token={RESET_TOKEN}"
            )
        return jsonify(sent=True, docs="https://app.example.test/reset?token={token}")

    @app.get("/sso/callback")
    def callback() -> Response:
        if leaky:
            return redirect(f"/dashboard?access_token={ACCESS_TOKEN}", 302)
        return redirect("/dashboard?next=%2Fsettings&state=af0ifjsldkj1234", 302)

    @app.get("/dashboard")
    def dashboard() -> Response:
        return jsonify(ok=True)

    @app.get("/files")
    def files() -> Response:
        response = jsonify(
            items=[{"name": "q3.pdf"}],
            next="/files?page_token=CgkIARCq9rS3mDEaAggB&limit=20",
            download=(
                "https://bucket.s3.amazonaws.com/q3.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                "&X-Amz-Credential=AKIDEXAMPLE%2F20261129%2Fus-east-1%2Fs3%2Faws4_request"
                "&X-Amz-Expires=300&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82"
            ),
            authorize=(
                "https://accounts.example.net/o/oauth2/auth?client_id=123.apps.example"
                "&response_type=code&state=xyz123456789&redirect_uri=https%3A%2F%2Fapp.example.test"
            ),
            sorted_by="/files?key=created_at&order=desc",
        )
        if leaky:
            response.headers["Link"] = f'</files/export?api_key={API_KEY}>; rel="export"'
        else:
            response.headers["Link"] = '</files?page_token=CgkIARCq9rS3mDEaAggB>; rel="next"'
        return response

    return app
