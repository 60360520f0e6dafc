"""Servers that misbehave on the wire, for the hostile-target suite (tests/hostile).

Each behaviour is a function `(request, sock) -> None` served by `wire.http_server` on 127.0.0.1,
one request per connection, in raw sockets: HTTP frameworks cannot trickle a status line, lie
about a charset, reset a connection or stall a TLS handshake on purpose.

    wire      the raw server, its log of requests and connections, and the well-behaved root page
    bodies    slow heads, slowloris and endless bodies, compression bombs, broken charsets
    protocol  oversized heads, resets, half-closes, non-HTTP, redirects, 5xx, rate limiting
    tls       handshakes that fail or never finish
    scanning  a scan in a child process, held to its budget and to 300 MiB (runs scan_child.py)
"""
