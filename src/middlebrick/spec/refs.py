"""`$ref` resolution that is safe on hostile documents: on demand (never inlined, so cycles cost
nothing), chains followed with a visited set, external refs only to files beside the spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

from middlebrick.errors import SpecError

MAX_CHAIN = 64
MAX_EXTERNAL_FILES = 64


class Resolver:
    """Resolves `{"$ref": ...}` nodes of one document (and files beside it, when it is a file)."""

    def __init__(self, doc: dict[str, Any], base: Path | None = None) -> None:
        self.doc = doc
        self.base = base.resolve() if base is not None else None
        self._files: dict[Path, Any] = {}

    def deref(self, node: Any) -> Any:
        """The node a `$ref` chain ends at (the node itself when it is no ref); `{}` for a ref
        that cannot be followed, so one broken ref costs one operation detail, not the scan."""
        seen: set[tuple[Path | None, str]] = set()
        document, where = self.doc, None
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if len(seen) >= MAX_CHAIN or (where, ref) in seen:
                return {}  # a loop of refs
            seen.add((where, ref))
            target, _, pointer = ref.partition("#")
            if target:
                loaded = self._external(target, where)
                if loaded is None:
                    return {}
                where, document = loaded
            node = _pointer(document, pointer)
            if node is None:
                return {}
        return node

    def _external(self, target: str, relative_to: Path | None) -> tuple[Path, Any] | None:
        if self.base is None or "://" in target:
            return None  # never to the network
        root = self.base.parent
        path = ((relative_to.parent if relative_to else root) / unquote(target)).resolve()
        if root not in path.parents:
            return None  # only files beside the spec, not anywhere on the disk
        if path not in self._files:
            if len(self._files) >= MAX_EXTERNAL_FILES:
                return None
            from middlebrick.spec.loader import parse_any  # noqa: PLC0415 - loader imports us

            try:
                self._files[path] = parse_any(path)
            except SpecError:
                self._files[path] = None
        document = self._files[path]
        return None if document is None else (path, document)


def _pointer(document: Any, pointer: str) -> Any:
    """RFC 6901 JSON pointer lookup; None when it leads nowhere."""
    node = document
    for raw in pointer.split("/")[1:] if pointer else []:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node
