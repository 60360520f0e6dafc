"""The fast paths of the content analyzer (the prefilter's shapes, the column reading of
records, the cheap tests before each regex) lose no hit: each case here is one a careless guard
would drop, and a property test holds `scan_body` to an exhaustive reference walk."""

from __future__ import annotations

import json
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from middlebrick.checks.analyzers import content
from middlebrick.checks.analyzers.content import Hit, scan_body
from middlebrick.checks.analyzers.jsonwalk import MAX_NODES, Name, Plan
from middlebrick.checks.analyzers.prefilter import Shape, detectors, shapes

CARD = "4539148803436467"  # Luhn-valid Visa
AWS_KEY = "AKIAIOSFODNN7EXAMPLQ"


def found(body: bytes | str, *, is_json: bool = True) -> list[tuple[str, str, str]]:
    raw = body.encode() if isinstance(body, str) else body
    return [(h.kind, h.value, h.where) for h in scan_body(raw, is_json)]


def records(n: int = 20, **last: object) -> list[dict[str, object]]:
    """n like records (read by column), the last one with `last` merged in."""
    rows: list[dict[str, object]] = [
        {"id": i, "name": f"user {i}", "tags": ["a", "b"], "note": None} for i in range(n)
    ]
    rows[-1] = {**rows[-1], **last}
    return rows


# --- text bodies -----------------------------------------------------------------------------
def test_a_card_number_in_prose_is_found() -> None:
    text = f"Order {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]} was placed today."
    assert found(text, is_json=False) == [("payment card number", "4539 1488 0343 6467", "body")]


def test_an_ssn_in_a_text_body_is_found() -> None:
    assert found("<td>SSN</td><td>123-45-6789</td>", is_json=False) == [
        ("US social security number", "123-45-6789", "body")
    ]


def test_a_card_in_quotes_is_found_in_text_but_is_an_id_in_json() -> None:
    assert found(f'<input value="{CARD}">', is_json=False)[0][1] == CARD
    assert found(json.dumps({"order_id": CARD})) == []
    assert found(json.dumps({"card": CARD})) == [("payment card number", CARD, "$.card")]


# --- JSON: values the prefilter must not miss ------------------------------------------------
def test_an_aws_key_in_a_nested_list_is_found() -> None:
    body = json.dumps({"config": {"profiles": [["eu", [AWS_KEY]]]}})
    assert found(body) == [("AWS access key id", AWS_KEY, "$.config.profiles[0][1][0]")]


def test_escaped_characters_hide_no_hint() -> None:
    assert found(r'{"contact": "ann\u0040corp.io"}') == [
        ("e-mail address", "ann@corp.io", "$.contact")
    ]
    assert found(r'{"dsn": "postgres:\/\/app:s3cr3t-pw@db.internal:5432"}')[0][0] == (
        "connection string with password"
    )
    # the character before the digits decodes to a tab or a euro sign: still a card
    assert found(f'{{"note": "paid\\t{CARD}"}}')[0][1] == CARD
    assert found(f'{{"note": "\\u20ac{CARD}"}}')[0][1] == CARD


def test_json_in_utf16_is_read_with_every_detector() -> None:
    body = json.dumps({"owner": {"ssn": "123-45-6789"}}).encode("utf-16")
    assert found(body) == [("US social security number", "123-45-6789", "$.owner.ssn")]


def test_names_that_fold_to_password_count() -> None:
    # 'ſ' matches 's' in a case-insensitive regex
    assert found(json.dumps({"paſſword": "hunter2"}, ensure_ascii=False)) == [
        ("plaintext password", "hunter2", "$.paſſword")
    ]


def test_telling_names_judge_short_and_numeric_values() -> None:
    assert found(json.dumps({"pass": "abc"})) == [("plaintext password", "abc", "$.pass")]
    assert found(json.dumps({"items": [{"pan": int(CARD)}]})) == [
        ("payment card number", CARD, "$.items[0].pan")
    ]
    assert found(json.dumps({"mobile": 4915123456789})) == [
        ("phone number", "4915123456789", "$.mobile")
    ]


def test_documentation_addresses_are_skipped_only_where_they_are() -> None:
    body = json.dumps(["noreply@example.com", "ann@corp.io", "info@corp.io", "git@github.com:o/r"])
    assert found(body) == [("e-mail address", "ann@corp.io", "$[1]")]


# --- JSON: lists of records, read by column --------------------------------------------------
def test_a_hit_in_one_column_of_records_keeps_its_path() -> None:
    body = json.dumps({"users": records(email="ann@corp.io")})
    assert found(body) == [("e-mail address", "ann@corp.io", "$.users[19].email")]


def test_hits_in_several_columns_come_in_document_order() -> None:
    rows = [{"id": i, "contact": "x", "ssn": "-"} for i in range(20)]
    rows[3] = {"ssn": "234-56-7890", "id": 3, "contact": "ben@corp.io"}  # another key order
    rows[19]["ssn"] = "123-45-6789"
    assert [(kind, where) for kind, _, where in found(json.dumps(rows))] == [
        ("US social security number", "$[3].ssn"),
        ("e-mail address", "$[3].contact"),
        ("US social security number", "$[19].ssn"),
    ]


def test_records_nested_in_a_column_are_read() -> None:
    rows = records(orders=[{"card": CARD, "n": 1}] * 20)
    rows = [{**r, "orders": r.get("orders", [])} for r in rows]
    assert found(json.dumps(rows)) == [("payment card number", CARD, "$[19].orders[0].card")]


def test_a_column_of_mixed_types_is_read() -> None:
    rows = [{"id": i, "contact": None if i % 2 else f"u{i}@corp.io"} for i in range(20)]
    assert len(found(json.dumps(rows))) == 10


def test_a_password_column_is_read_whatever_its_values() -> None:
    rows = [{"user": f"u{i}", "password": "pw" if i == 7 else ""} for i in range(20)]
    assert found(json.dumps(rows)) == [("plaintext password", "pw", "$[7].password")]


def test_records_with_other_keys_are_walked_one_by_one() -> None:
    rows: list[dict[str, object]] = [{"a": "x", "b": "y"} for _ in range(20)]
    rows[5] = {"a": "x", "c": "ann@corp.io"}
    assert found(json.dumps(rows)) == [("e-mail address", "ann@corp.io", "$[5].c")]


# --- bounds ----------------------------------------------------------------------------------
def test_nodes_past_the_limit_are_not_read() -> None:
    # the list, then each record and its field: the last row's field is one node too many
    rows = [{"e": f"u{i}@c.io"} for i in range(MAX_NODES // 2)]
    hits = found(json.dumps(rows, separators=(",", ":")))
    last = MAX_NODES // 2 - 2
    assert (len(hits), hits[-1]) == (last + 1, ("e-mail address", f"u{last}@c.io", f"$[{last}].e"))
    flat = json.dumps({"pan": [int(CARD), *[1] * MAX_NODES, 4916338506082832]})
    assert found(flat) == [("payment card number", CARD, "$.pan[0]")]


# --- the prefilter ---------------------------------------------------------------------------
def test_bodies_without_shapes_need_no_detector() -> None:
    body = json.dumps(records(uuid="8f14e45fceea467fa0e65d2b5c3a9b1e", score=0.5488135039273248))
    assert detectors(shapes(body.encode()), json=True) == Shape(0)


def test_digits_after_a_quote_are_a_card_only_under_a_telling_name_in_json() -> None:
    ids = shapes(json.dumps({"ref": CARD}).encode())
    assert Shape.CARD not in detectors(ids, json=True)
    assert Shape.CARD in detectors(ids, json=False)
    assert Shape.CARD in detectors(shapes(json.dumps({"phone": CARD}).encode()), json=True)


# --- against an exhaustive reference ---------------------------------------------------------
EVERY = Plan(
    email=True, examples=True, ssn=True, card=True, iban=True, secret=True, hash=True, names=True
)


def reference(body: bytes, is_json: bool) -> list[Hit]:
    """Every detector on every value (the analyzer before its fast paths)."""
    raw = body[: content.MAX_TEXT]
    document = content._parse(raw) if is_json else None
    if document is None:
        text = raw.decode("utf-8", errors="replace")
        return _unique((*f, "body") for f in content._secrets(text) + content._pii(text, EVERY))
    out = []
    for key, value, where in _scalars(document):
        name = Name.of(key)
        if len(value) < 6 and not name.matters:
            continue
        if value.isdigit() and not name.takes_digits:
            continue
        judged = [
            *content._field(name, value, EVERY),
            *content._secrets(value),
            *content._pii(value, EVERY),
        ]
        out += [(*f, where) for f in judged]
    return _unique(out)


def _scalars(document: object) -> Iterator[tuple[str, str, str]]:
    stack: list[tuple[str, object, str]] = [("", document, "$")]
    seen = 0
    while stack and seen < MAX_NODES:
        name, node, path = stack.pop()
        seen += 1
        if isinstance(node, dict):
            stack.extend((k, v, f"{path}.{k}") for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((name, v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node))))
        elif isinstance(node, str):
            yield name, node, path
        elif isinstance(node, int) and not isinstance(node, bool) and name:
            yield name, str(node), path


def _unique(hits: object) -> list[Hit]:
    out: dict[tuple[str, str], Hit] = {}
    for kind, family, value, where in hits:  # type: ignore[attr-defined]
        out.setdefault((kind, value), Hit(kind, family, value, where))
    return list(out.values())


TRICKY = [
    CARD,
    f"{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}",
    f"x{CARD}",
    f"1.{CARD}",
    f"paid {CARD}.",
    "123-45-6789",
    "1123-45-6789",
    "ann@corp.io",
    "noreply@example.com",
    "DE89 3704 0044 0532 0130 00",
    AWS_KEY,
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_" + "a1" * 18,
    "postgres://app:s3cr3t-pw@db:5432/x",
    "$2b$12$" + "a" * 53,
    "d41d8cd98f00b204e9800998ecf8427e",
    "aB3dE5fG7hJ9kL1mN3pQ",
    "+49 151 23456789",
    "****",
    "2026-11-28T10:00:00Z",
    "8f14e45f-ceea-467f-a0e6-5d2b5c3a9b1e",
    "hunter2",
]
KEYS = ["id", "email", "password", "pass", "api_key", "client_secret", "card", "pan", "phone"]
KEYS += ["note", "ref", "tags", "Telephone", "authToken"]
scalars = (
    st.sampled_from(TRICKY)
    | st.text(max_size=12)
    | st.integers()
    | st.sampled_from([int(CARD), -123456, 4915123456789, None, True, 0.5])
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
        # lists of like records, read by column; the last one has its keys in another order
        | st.builds(
            lambda keys, cells, n: (
                [dict(zip(keys, cells, strict=False)) for _ in range(n)]
                + [dict(reversed(list(zip(keys, cells, strict=False))))]
            ),
            st.lists(st.sampled_from(KEYS), min_size=1, max_size=4, unique=True),
            st.lists(children, min_size=4, max_size=4),
            st.integers(min_value=16, max_value=20),
        )
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    document=documents,
    ascii_only=st.booleans(),
    slashes=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8", "utf-16"]),
)
def test_scan_body_finds_what_every_detector_on_every_value_finds(
    document: object, ascii_only: bool, slashes: bool, encoding: str
) -> None:
    text = json.dumps(document, ensure_ascii=ascii_only)
    body = (text.replace("/", "\\/") if slashes else text).encode(encoding)
    for is_json in (True, False):
        assert scan_body(body, is_json) == reference(body, is_json)
