"""Benchmarks: scripts that print figures; results with machine and date go in bench/RESULTS.md."""
