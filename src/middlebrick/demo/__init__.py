"""The bundled demo: a vulnerable Flask API, its fixed twin, and the loopback server harness."""
