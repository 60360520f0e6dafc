"""OpenAPI documents: loading, references, and the operations a scan tests."""
