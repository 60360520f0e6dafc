"""The MCP server: the scanner's tools for an AI assistant, over the same engine as the CLI.

    targets   which URLs the server agrees to touch: loopback, the allow-list, no private ranges
    results   the tools' structured outputs (pydantic models, so each tool publishes a schema)
    store     the last reports, in memory, by id
    runs      a scan with its events relayed as MCP progress; an audit of a fetched spec
    server    the `MCPServer` itself: tools, report resources, the error boundary

`runs` and `server` need the `mcp` SDK (the `middlebrick[mcp]` extra); the rest does not.
"""
