"""`middlebrick mcp` itself: what it says when the SDK extra is missing or an option is wrong."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from middlebrick.cli import app

runner = CliRunner()


def test_without_the_sdk_it_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import middlebrick.mcp_server

    monkeypatch.delattr(middlebrick.mcp_server, "server", raising=False)
    monkeypatch.delitem(sys.modules, "middlebrick.mcp_server.server", raising=False)
    monkeypatch.setitem(sys.modules, "mcp.server.mcpserver", None)

    result = runner.invoke(app, ["mcp"])

    assert result.exit_code == 2
    assert "pip install 'middlebrick[mcp]'" in result.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--allow", "api.example.com:http"], "the port must be a number"),
        (["--http", "--port", "0"], "--port takes 1-65535"),
    ],
)
def test_bad_options_exit_2(args: list[str], says: str) -> None:
    result = runner.invoke(app, ["mcp", *args], env={"COLUMNS": "200"})

    assert result.exit_code == 2
    assert says in result.output
