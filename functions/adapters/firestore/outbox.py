"""The email ledger in Firestore: a tick's emails in a few outbox documents, known keys packed.

    outbox/<save>-<i>  {state, emails: [...], keys: [...], marks: {i: status}, queued_at, seq}
    keys/<group>-<i>   {d: bytes}: 8 bytes of sha256 per key the ledger ever accepted

One document per ~900 KB of a tick's emails instead of one per email: queuing 145 emails is
two writes, and a warm instance learns what to send without reading anything. An email's
status is its mark, or the document's state (`queued` until the tick commits, then `pending`).
Only the statuses `pending` and `sending` still need the sender; the rest are final.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from functions.model import RenderedEmail

JSON = dict[str, Any]

DOC_BYTES = 900_000  # emails per outbox document, by size
DOC_LIMIT_BYTES = 1_000_000
KEYS_PER_DOC = 100_000  # 800 KB of digests
DIGEST_BYTES = 8
LIVE = ("pending", "sending")


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()[:DIGEST_BYTES]


def key_group(key: str) -> str:
    """Keys are indexed per flow (`invoice:…`, `deal:…`): a flow reads only its own."""
    group = key.partition(":")[0]
    return group if group.isalnum() and len(group) <= 20 else "other"


def unpack(data: bytes) -> Iterator[bytes]:
    return (data[i : i + DIGEST_BYTES] for i in range(0, len(data), DIGEST_BYTES))


def email_doc(email: RenderedEmail) -> JSON:
    return {
        "key": email.key,
        "message_id": email.message_id,
        "sender": email.sender,
        "recipients": list(email.to),
        "subject": email.subject,
        "raw": email.raw,
    }


def email_of(doc: JSON) -> RenderedEmail:
    return RenderedEmail(
        doc["key"],
        doc["message_id"],
        doc["sender"],
        tuple(doc["recipients"]),
        doc["subject"],
        bytes(doc["raw"]),
    )


def email_size(email: RenderedEmail) -> int:
    return (
        len(email.raw) + sum(len(s.encode()) for s in (email.key, email.subject, *email.to)) + 300
    )


def batches(emails: Iterable[RenderedEmail]) -> list[list[RenderedEmail]]:
    """Emails in groups under a document's size; an email alone over 1 MiB is refused."""
    out: list[list[RenderedEmail]] = []
    size = DOC_BYTES + 1
    for email in emails:
        cost = email_size(email)
        if cost > DOC_LIMIT_BYTES:
            raise ValueError(f"email “{email.subject}” is too large to queue")
        if size + cost > DOC_BYTES:
            out.append([])
            size = 0
        out[-1].append(email)
        size += cost
    return out


def outbox_doc(emails: list[RenderedEmail], queued_at: float, seq: int, expires: Any) -> JSON:
    return {
        "state": "queued",
        "emails": [email_doc(e) for e in emails],
        "keys": [e.key for e in emails],
        "marks": {},
        "queued_at": queued_at,
        "seq": seq,
        "expires_at": expires,  # a save cut short leaves it unlisted: TTL removes it
    }


def status(doc: JSON, index: int) -> str:
    mark = doc.get("marks", {}).get(str(index))
    if mark:
        return str(mark)
    return "queued" if doc.get("state") == "queued" else "pending"


def finished(doc: JSON) -> bool:
    return all(status(doc, i) not in (*LIVE, "queued") for i in range(len(doc["emails"])))
