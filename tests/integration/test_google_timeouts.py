"""Every Google call has a timeout: a hung connection must not eat a whole tick."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.cloud.firestore_v1.client import Client
from google.cloud.firestore_v1.document import DocumentReference
from google.cloud.firestore_v1.query import Query

from functions.adapters.firestore import writes as firestore_writes
from functions.adapters.firestore.state import FirestoreState
from functions.adapters.mail import gmail as mail_gmail


def test_firestore_reads_and_queries_pass_a_timeout(
    firestore_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, object]] = []
    get, get_all, stream = DocumentReference.get, Client.get_all, Query.stream

    def timed_get(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(("get", kwargs.get("timeout")))
        return get(self, *args, **kwargs)

    def timed_get_all(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(("get_all", kwargs.get("timeout")))
        return get_all(self, *args, **kwargs)

    def timed_stream(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(("stream", kwargs.get("timeout")))
        return stream(self, *args, **kwargs)

    monkeypatch.setattr(DocumentReference, "get", timed_get)
    monkeypatch.setattr(Client, "get_all", timed_get_all)
    monkeypatch.setattr(Query, "stream", timed_stream)
    state = FirestoreState(firestore_client, root=f"sheetflow-test/{uuid.uuid4().hex}")
    assert state.acquire_lock("tick", 300)
    state.load_meta()
    state.load_snapshot()
    state.commit_journal({"invoices": {"INV-000001": {"values": {}}}}, {"k": 1})
    state.ledger_entry("a key nobody queued")
    state.release_lock("tick")
    assert {kind for kind, _t in seen} == {"get", "get_all", "stream"}
    assert {timeout for _k, timeout in seen} == {firestore_writes.TIMEOUT}
    assert firestore_writes.TIMEOUT == 30.0


def test_gmail_calls_go_through_an_http_client_with_a_60_second_timeout() -> None:
    assert mail_gmail.build_http().timeout == 60  # type: ignore[attr-defined]
