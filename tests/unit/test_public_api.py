"""The public API is what `__all__` says, sorted, and every name in it exists."""

from __future__ import annotations

import middlebrick


def test_all_is_sorted_and_complete() -> None:
    names = [n for n in middlebrick.__all__ if n != "__version__"]
    assert names == sorted(names)
    for name in middlebrick.__all__:
        assert hasattr(middlebrick, name), name


def test_public_names() -> None:
    assert {"scan", "ScanConfig", "Report", "Finding", "Severity", "Category"} <= set(
        middlebrick.__all__
    )
    assert middlebrick.__version__.count(".") == 2
