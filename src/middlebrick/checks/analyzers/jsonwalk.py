"""The values of a JSON document that a content detector could flag, in document order, with
where they are.

A Python loop over every node of a 1 MB body costs more than all the detectors together, so a
list of records (the bulk of most API bodies) is read by column: a column whose serialised text
shows none of the shapes the remaining detectors need (`prefilter`) is skipped whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeVar

import orjson

from middlebrick.checks.analyzers.prefilter import Shape, detectors, shapes

MAX_NODES = 100_000
_T = TypeVar("_T")
_RECORDS = 16  # a list of at least this many objects with the same keys is read by column

_PASSWORD_NAME = re.compile(
    r"^(?:password|passwd|pwd|pass|password_?hash|hashed_?password|pw_?hash)$", re.I
)
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:secret|client_secret|api_?key|private_?key|access_?key|secret_?key|auth_?token|"
    r"access_?token|refresh_?token)$",
    re.I,
)
_CARD_NAME = re.compile(r"card|(?:^|_)pan$|cc_?num|account_?number", re.I)
_PHONE_NAME = re.compile(r"phone|mobile|(?:^|_)(?:tel|telephone|cell|msisdn|fax)(?:_|$)", re.I)


@dataclass(frozen=True, slots=True)
class Name:
    """What a field name says about its values."""

    text: str
    password: bool
    secret: bool
    card: bool
    phone: bool
    matters: bool  # any value of this field is worth judging, however short or plain

    @classmethod
    def of(cls, text: str) -> Name:
        password = bool(_PASSWORD_NAME.match(text))
        secret = bool(_SECRET_NAME.search(text))
        phone = bool(_PHONE_NAME.search(text))
        card = bool(_CARD_NAME.search(text))
        return cls(text, password, secret, card, phone, matters=password or secret or phone)

    @property
    def takes_digits(self) -> bool:
        """Digits alone may be what this field holds (a card number, a phone number)."""
        return self.card or self.phone


NO_NAME = Name.of("")


@dataclass(frozen=True, slots=True)
class Plan:
    """The detectors worth running on some values: those whose shapes the prefilter saw there."""

    email: bool = False
    examples: bool = False  # an e-mail address may be a documentation or role one
    ssn: bool = False
    card: bool = False
    iban: bool = False
    secret: bool = False
    hash: bool = False
    names: bool = False  # a password-, secret-, phone- or card-like field name is there

    @classmethod
    def of(cls, found: Shape) -> Plan:
        return cls(
            email=Shape.EMAIL in found,
            examples=Shape.EXAMPLE_EMAIL in found,
            ssn=Shape.SSN in found,
            card=Shape.CARD in found,
            iban=Shape.IBAN in found,
            secret=Shape.SECRET in found,
            hash=Shape.HASH in found,
            names=bool(found & (Shape.NAME | Shape.DIGITS_NAME)),
        )

    def __bool__(self) -> bool:
        return self != _NOTHING

    def keeps(self, value: str) -> bool:
        """Whether a value passes the cheap test that opens some detector of the plan (each
        detector in `content` starts with the same test)."""
        return (
            self.secret
            or (self.email and "@" in value)
            or (self.ssn and "-" in value)
            or (self.hash and "$" in value)
            # a card-like run needs 13 characters, and a value of letters and digits holds one
            # only if it is all digits (the run may not touch a letter)
            or (self.card and len(value) >= 13 and (value.isdigit() or not value.isalnum()))
            or (self.iban and (value[:1].isupper() or value[1:2].isupper() or " " in value))
        )

    def needle(self) -> str | None:
        """The one character `keeps` looks for, when that is all it does."""
        needles = [c for c, on in (("@", self.email), ("-", self.ssn), ("$", self.hash)) if on]
        if len(needles) == 1 and not (self.card or self.iban or self.secret or self.names):
            return needles[0]
        return None

    def within(self, values: tuple[object, ...], name: Name) -> tuple[Plan, int]:
        """The plan narrowed to what `values` (a column, under field `name`) could hold, and
        how many nodes the values hold below them, or more."""
        try:
            # a column of strings, the usual: their text, each after a NUL (anything else
            # raises TypeError)
            joined = "\x00".join(values)  # type: ignore[arg-type]
            text, nested, json = joined.encode(errors="surrogatepass"), 0, False
        except TypeError:
            if set(map(type, values)) <= _ATOMS:  # numbers count only under a telling name
                return (self if name.matters or name.takes_digits else _NOTHING), 0
            try:
                text, json = orjson.dumps(values), True
            except TypeError:  # a lone surrogate or a huge integer from the stdlib parser
                return self, MAX_NODES + 1  # the exact walk will count
            # a node other than a value follows a ',', '[' or '{' (as an item or a member)
            nested = len(text.translate(None, _NOT_OPENING)) - len(values)
        if not (self.card or self.iban or self.secret or self.names):
            email = self.email and b"@" in text
            return Plan(  # needles are enough, and orjson escapes none of them
                email=email,
                examples=email and self.examples,
                ssn=self.ssn and b"-" in text,
                hash=self.hash and b"$" in text,
            ), nested
        found = shapes(text)
        if name.takes_digits:
            found |= Shape.DIGITS_NAME
        if name.matters:
            found |= Shape.NAME
        there = Plan.of(detectors(found, json=json))
        return Plan(
            email=self.email and there.email,
            examples=self.email and there.email and self.examples,
            ssn=self.ssn and there.ssn,
            card=self.card and there.card,
            iban=self.iban and there.iban,
            secret=self.secret and there.secret,
            hash=self.hash and there.hash,
            names=self.names and there.names,
        ), nested


_ATOMS = {int, float, bool, type(None)}
_NOT_OPENING = bytes(sorted(set(range(256)) - set(b",[{")))
_NOTHING = Plan()

# A container's place: (its container's place, its key or index); the document's is
# (None, None). A path is spelled out only for the few values that hit.
Frame = tuple["Frame | None", str | int | None]
ROOT: Frame = (None, None)
# (field name, value, container, key or index): a value some detector of the plan could flag
Candidate = tuple[Name, str, Frame, str | int | None]


class Paths:
    """JSON paths ($.users[2].ssn); a container's own is spelled out once."""

    def __init__(self) -> None:
        self._of: dict[Frame, str] = {}

    def __call__(self, frame: Frame, step: str | int | None) -> str:
        parent, last = frame
        head = "$" if parent is None else (self._of.get(parent) or self._container(parent))
        if type(last) is int and type(step) is str:  # a field of a list item, the usual hit
            return f"{head}[{last}].{step}"
        return head + _step(last) + _step(step)

    def _container(self, frame: Frame) -> str:
        path = self._of.get(frame)
        if path is None:
            parent, step = frame
            head = "$" if parent is None else self._container(parent)
            path = self._of[frame] = head + _step(step)
        return path


def _step(step: str | int | None) -> str:
    if step is None:
        return ""  # the document itself
    return f"[{step}]" if type(step) is int else f".{step}"


class Walk:
    """One pass over a document: `candidates` in document order, and `nodes`, the number of
    nodes (containers included) it holds, or more."""

    def __init__(self, plan: Plan, *, by_column: bool = True) -> None:
        self.plan = plan
        self.by_column = by_column
        self.nodes = 1
        self._names: dict[str, Name] = {}

    def candidates(self, document: object) -> Iterator[Candidate]:
        """The values a detector of the plan could flag; an integer counts as its digits."""
        return self._node(document, ROOT, None, "", self.plan)

    def _name(self, key: str) -> Name:
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = Name.of(key)
        return name

    def _node(
        self, node: object, frame: Frame, step: str | int | None, key: str, plan: Plan
    ) -> Iterator[Candidate]:
        """Candidates in `node`, child `step` (under field name `key`) of `frame`."""
        if type(node) is dict or type(node) is list:
            yield from self._container(node, (frame, step), key, plan)
        else:
            name = self._name(key) if plan.names else NO_NAME
            if text := _worth(node, name, plan):
                yield name, text, frame, step

    def _container(
        self, node: dict[str, object] | list[object], at: Frame, key: str, plan: Plan
    ) -> Iterator[Candidate]:
        """Candidates in the container `node` at `at`; `key` names a list's items."""
        if self.by_column and (columns := _columns(node)):
            yield from self._records(node, columns, at, plan)  # type: ignore[arg-type]
            return
        self.nodes += len(node)
        # a stack of child iterators, one per open container, so that siblings wait for the
        # subtree before them
        stack: list[tuple[Iterator[tuple[Any, object]], Frame, str]] = [(_children(node), at, key)]
        while stack:
            children, into, list_name = stack[-1]
            for step, value in children:
                kind = type(value)
                name_key = step if type(step) is str else list_name
                if kind is dict or kind is list:
                    if self.by_column and (columns := _columns(value)):
                        yield from self._records(value, columns, (into, step), plan)  # type: ignore[arg-type]
                        continue
                    self.nodes += len(value)  # type: ignore[arg-type]
                    stack.append((_children(value), (into, step), name_key))
                    break
                if kind is str or kind is int:
                    name = self._name(name_key) if plan.names else NO_NAME
                    if text := _worth(value, name, plan):
                        yield name, text, into, step
            else:
                stack.pop()

    def _records(
        self,
        rows: list[dict[str, object]],
        columns: list[tuple[str, tuple[object, ...]]],
        frame: Frame,
        plan: Plan,
    ) -> Iterator[Candidate]:
        """Candidates in a list of objects with the same keys, read by column, in document
        order."""
        self.nodes += len(rows) * (1 + len(columns))
        wanted: list[tuple[str, tuple[object, ...], Plan]] = []
        for key, values in columns:
            within, nested = plan.within(values, self._name(key))
            if within:
                wanted.append((key, values, within))
            else:
                self.nodes += nested  # the walk below would have counted them
        if len(wanted) == 1:  # the usual case: no order to keep between columns
            [(key, values, within)] = wanted
            name = self._name(key) if within.names else NO_NAME
            plain = not name.matters and not name.takes_digits
            needle = within.needle()
            for row, value in enumerate(values):
                if type(value) is str and plain:  # `_worth`, inlined for the bulk of a column
                    if (
                        (needle in value if needle else within.keeps(value))
                        and len(value) >= 6
                        and not value.isdigit()
                    ):
                        yield name, value, (frame, row), key
                else:
                    yield from self._node(value, (frame, row), key, key, within)
            return
        keys = [key for key, _ in columns]
        for row in range(len(rows) if wanted else 0):
            found: list[tuple[str, Candidate]] = []
            for key, values, within in wanted:
                found += ((key, c) for c in self._node(values[row], (frame, row), key, key, within))
            if len(found) > 1 and (order := list(rows[row])) != keys:
                found.sort(key=lambda item: order.index(item[0]))  # this row's own key order
            for _, candidate in found:
                yield candidate


def _worth(value: object, name: Name, plan: Plan) -> str | None:
    """The text of a scalar worth judging under `name`, or None."""
    kind = type(value)
    if kind is str:
        text: str = value  # type: ignore[assignment]
    elif kind is int and plan.names and name.text:
        text = str(value)
    else:
        return None  # floats, booleans, null; integers only under a telling name
    if len(text) < 6 and not name.matters:
        return None  # too short to be any of it, unless the name says password
    if text.isdigit() and not name.takes_digits:
        return None  # numeric ids and counters, however card-like their digits
    return text if name.matters or plan.keeps(text) else None


def over_candidates(
    document: object, plan: Plan, consume: Callable[[Iterator[Candidate]], _T]
) -> _T:
    """`consume` the values of `document` that a detector of `plan` could flag, in document
    order, within its first MAX_NODES nodes (containers included). They stream: when the
    document proves larger, or too deep to read by column, `consume` runs again on an exact
    walk of its first MAX_NODES nodes."""
    walk = Walk(plan)
    try:
        result = consume(walk.candidates(document))
        if walk.nodes <= MAX_NODES:
            return result
    except RecursionError:  # records nested in records nested in records…
        pass
    return consume(Walk(plan, by_column=False).candidates(_first_nodes(document)))


def _columns(node: object) -> list[tuple[str, tuple[object, ...]]] | None:
    """The columns of a list of at least _RECORDS objects with the same keys, or None."""
    if type(node) is not list or len(node) < _RECORDS or type(node[0]) is not dict:
        return None
    if set(map(type, node)) != {dict} or len(set(map(len, node))) != 1:
        return None
    try:
        return [(key, tuple(map(itemgetter(key), node))) for key in node[0]]
    except KeyError:  # as many keys, not the same ones
        return None


def _children(node: Any) -> Iterator[tuple[Any, object]]:
    return iter(node.items()) if type(node) is dict else enumerate(node)


def _first_nodes(document: object) -> object:
    """The document cut to its first MAX_NODES nodes (containers included) in document order."""
    if type(document) is not dict and type(document) is not list:
        return document
    budget = MAX_NODES - 1
    cut: Any = type(document)()
    stack: list[tuple[Iterator[tuple[Any, object]], Any]] = [(_children(document), cut)]
    while stack and budget:
        children, into = stack[-1]
        for step, node in children:
            budget -= 1
            kind = type(node)
            copy: Any = kind() if kind is dict or kind is list else node
            if type(into) is dict:
                into[step] = copy
            else:
                into.append(copy)
            if copy is not node:
                stack.append((_children(node), copy))
                break
            if not budget:
                break
        else:
            stack.pop()
    return cut
