"""Our secret detection against detect-secrets (Yelp, default plugin set) on API response bodies.

python -m bench.secrets_compare

Two corpora of JSON records, one record a line as a pretty-printed body has them: planted
credentials (each record holds one, which a tool must report) and benign values that trip
secret scanners (UUIDs, digests, base64 images, ids, documentation samples, and the realistic
responses of tests/corpus/benign). For each tool: planted secrets found, records of the benign
corpus with a finding (false positives), findings in the planted corpus that are no planted
secret, and throughput on a ~1 MB body of both corpora.

detect-secrets runs through `scan_line` over the body's lines (its ad-hoc API, eager search on)
and, as its CLI does, through `scan_file` over the same text in a file (eager search off).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from detect_secrets.core.scan import scan_file, scan_line
from detect_secrets.settings import default_settings

from middlebrick.checks.analyzers.content import scan_body

CORPUS = Path(__file__).parent.parent / "tests" / "corpus" / "benign"


def _random(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def planted() -> list[tuple[dict[str, object], str]]:
    """(record, the secret in it) for each kind of credential an API should never return."""
    rng = random.Random(11)
    alnum = string.ascii_letters + string.digits
    b64 = alnum + "+/"
    jwt = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in ({"alg": "HS256", "typ": "JWT"}, {"sub": "4711", "role": "admin"})
    )
    jwt += "." + _random(rng, alnum + "-_", 43)
    secrets = [
        ("aws_access_key_id", "AKIA" + _random(rng, string.ascii_uppercase + string.digits, 16)),
        ("aws_secret_access_key", _random(rng, b64, 40)),
        ("token", "ghp_" + _random(rng, alnum, 36)),
        ("github_token", "github_pat_" + _random(rng, alnum + "_", 82)),
        (
            "slack_bot_token",
            "xoxb-" + _random(rng, string.digits, 12) + "-" + _random(rng, alnum, 24),
        ),
        ("stripe_key", "sk_live_" + _random(rng, alnum, 24)),
        ("maps_key", "AIza" + _random(rng, alnum + "-_", 35)),
        ("key_pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + _random(rng, b64, 60)),
        ("key_pem", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn" + _random(rng, b64, 60)),
        ("database_url", f"postgres://orders:{_random(rng, alnum, 14)}@db.internal:5432/orders"),
        ("cache_url", f"redis://default:{_random(rng, alnum, 20)}@cache.internal:6379/0"),
        ("mongo", f"mongodb+srv://svc:{_random(rng, alnum, 16)}@cluster0.x1y2z.mongodb.net/app"),
        ("session", jwt),
        ("api_key", _random(rng, alnum, 32)),
        ("client_secret", _random(rng, alnum + "-_", 40)),
        ("apiKey", _random(rng, alnum, 24)),
        ("refresh_token", _random(rng, alnum, 48)),
    ]
    return [({"id": i, name: value}, value) for i, (name, value) in enumerate(secrets)]


def benign() -> list[dict[str, object]]:
    """Values that look random or key-like and are not secrets."""
    rng = random.Random(12)
    png = base64.b64encode(bytes(rng.randrange(256) for _ in range(300))).decode()
    records: list[dict[str, object]] = [
        {"id": "8f14e45f-ceea-467f-a0e6-5d2b5c3a9b1e", "request_id": str(rng.getrandbits(64))},
        {"commit": hashlib.sha1(b"x").hexdigest(), "tree": hashlib.sha1(b"y").hexdigest()},
        {
            "etag": '"' + hashlib.md5(b"z").hexdigest() + '"',
            "checksum": hashlib.sha256().hexdigest(),
        },
        {"sha256": hashlib.sha256(b"w").hexdigest(), "size": 48213},
        {"avatar": "data:image/png;base64," + png},
        {"order_id": 4539148803436467, "user_id": "1732780800123", "created": 1732780800},
        {"created_at": "2026-11-28T10:00:00.123456Z", "ttl": 86400, "ratio": 0.6180339887498949},
        {"lat": 52.520008, "lon": 13.404954, "score": 0.9876543210123457},
        {"example_key": "AKIAIOSFODNN7EXAMPLE", "doc": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
        {"api_key": "your-api-key-here", "client_secret": "<client-secret>"},
        {"dsn": "postgres://user:password@localhost:5432/mydb", "token": "${API_TOKEN}"},
        {"integrity": "sha512-" + base64.b64encode(hashlib.sha512(b"v").digest()).decode()},
        {"nonce": _random(rng, string.ascii_lowercase, 12), "state": "af0ifjsldkj"},
        {"version": "1.24.3-alpine", "image": "nginx@sha256:" + hashlib.sha256(b"n").hexdigest()},
    ]
    for path in sorted(CORPUS.glob("*.json")):
        document = json.loads(path.read_text())
        records += document if isinstance(document, list) else [document]
    return records


def _body(records: list[object]) -> str:
    """The records as a pretty-printed response: one value a line, as diffs and scanners see."""
    return json.dumps(records, indent=1)


# A tool takes a body and gives the values it reports.
Tool = Callable[[str], list[str]]


def middlebrick(body: str) -> list[str]:
    return [hit.value for hit in scan_body(body.encode(), True) if hit.family != "pii"]


def detect_secrets_lines(body: str) -> list[str]:
    return [s.secret_value or "" for line in body.splitlines() for s in scan_line(line)]


def detect_secrets_file(body: str) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "response.json"
        path.write_text(body)
        return [s.secret_value or "" for s in scan_file(str(path))]


def _matches(reported: str, secret: str) -> bool:
    return bool(reported) and (reported in secret or secret in reported)


def evaluate(tool: Tool) -> Iterator[str]:
    plants = planted()
    missed = []
    extra = 0
    for record, secret in plants:
        values = tool(_body([record]))
        if not any(_matches(v, secret) for v in values):
            missed.append(next(k for k in record if k != "id"))
        extra += sum(not _matches(v, secret) for v in values)
    noisy = [record for record in benign() if tool(_body([record]))]
    yield f"planted found {len(plants) - len(missed)}/{len(plants)}" + (
        f" (missed: {', '.join(missed)})" if missed else ""
    )
    yield f"benign records flagged {len(noisy)}/{len(benign())}"
    yield f"extra findings on planted {extra}"
    rows: list[object] = []
    while len(_body(rows)) < 1_000_000:
        rows += [record for record, _ in plants] + benign()
    body = _body(rows)
    started = time.process_time()
    tool(body)
    elapsed = time.process_time() - started
    yield f"{len(body.encode()) / 1e6 / elapsed:.1f} MB/s ({len(body.encode()) / 1e6:.2f} MB)"


def main() -> None:
    with default_settings():
        for name, tool in (
            ("middlebrick", middlebrick),
            ("detect-secrets scan_line", detect_secrets_lines),
            ("detect-secrets scan_file", detect_secrets_file),
        ):
            print(f"{name:<26} " + "; ".join(evaluate(tool)))


if __name__ == "__main__":
    main()
