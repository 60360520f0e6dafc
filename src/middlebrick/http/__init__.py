"""HTTP transport: the one client wrapper, recorded exchanges, masking and TLS probes."""
