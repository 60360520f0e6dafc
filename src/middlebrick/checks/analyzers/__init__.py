"""Pure text analyzers shared by checks: no I/O, no engine, safe on hostile input."""
