"""One contract for every PostingStore and DeliveryLog: in memory, SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest
from attrs import evolve

from adapters.memory_postings import InMemoryDeliveryLog, InMemoryPostingStore
from adapters.sql.deliveries import SqlDeliveryLog
from adapters.sql.postings import CHUNK, SqlPostingStore
from application.jobs import PostingStore
from application.mail import DeliveryLog
from domain.matching import ScoredPosting
from domain.postings import PostingFilter
from tests.handlers.support import START, posting

STORES = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=STORES)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(kind: str, request: pytest.FixtureRequest) -> Iterator[PostingStore]:
    if kind == "memory":
        yield InMemoryPostingStore()
    else:
        yield SqlPostingStore(engine=request.getfixturevalue(f"{kind}_engine"))


@pytest.fixture
def deliveries(kind: str, request: pytest.FixtureRequest) -> Iterator[DeliveryLog]:
    if kind == "memory":
        yield InMemoryDeliveryLog()
    else:
        yield SqlDeliveryLog(engine=request.getfixturevalue(f"{kind}_engine"))


def test_upsert_creates_then_updates_changed_postings_and_skips_unchanged(
    store: PostingStore,
) -> None:
    first = store.upsert([posting("1", "Cook"), posting("2", "Baker")])
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    later = START + timedelta(hours=1)
    second = store.upsert(
        [posting("1", "Head Cook", fetched_at=later), posting("2", "Baker", fetched_at=later)]
    )
    assert (second.created, second.updated, second.unchanged) == (0, 1, 1)
    stored = {p.external_id: p for p in store.query(PostingFilter())}
    assert stored["1"].title == "Head Cook"
    assert stored["1"].fetched_at == later
    assert stored["2"].fetched_at == START


def test_a_posting_reads_back_equal_in_every_field(store: PostingStore) -> None:
    original = posting(
        "ü-1",
        "Développeur «senior» 🚀",
        company='A "quoted", company',
        location="Zürich, Schweiz",
        remote=True,
        description="line\nbreaks and 100% _wild_ chars",
        url="https://example.com/ü",
        posted_at=START - timedelta(days=1),
    )
    store.upsert([original])
    assert store.query(PostingFilter()) == [original]


def test_the_same_external_id_in_two_sources_is_two_postings(store: PostingStore) -> None:
    counts = store.upsert([posting("1", "Cook", source="a"), posting("1", "Cook", source="b")])
    assert counts.created == 2
    assert len(store.query(PostingFilter())) == 2


def test_filters_combine_and_location_ignores_case_beyond_ascii(store: PostingStore) -> None:
    store.upsert(
        [
            posting("1", "A", source="x", company="Acme", location="ZÜRICH", remote=True),
            posting("2", "B", source="x", company="Acme", location="Berlin"),
            posting("3", "C", source="y", company="Acme", location="zürich"),
            posting("4", "D", source="x", company="Other", location="Zürich 100%"),
        ]
    )

    def titles(**filters: object) -> list[str]:
        return sorted(p.title for p in store.query(PostingFilter(**filters)))  # type: ignore[arg-type]  # untyped test filters

    assert titles(location="zürich") == ["A", "C", "D"]
    assert titles(location="zürich", source="x") == ["A", "D"]
    assert titles(company="Acme", remote=False) == ["B", "C"]
    assert titles(location="%") == ["D"]
    assert titles(location="_") == []


def test_postings_come_newest_first_undated_last_then_by_id(store: PostingStore) -> None:
    old = posting("old", "Old", posted_at=START - timedelta(days=2))
    new = posting("new", "New", posted_at=START - timedelta(days=1))
    undated = [posting(f"u{i}", f"U{i}") for i in range(3)]
    store.upsert([*undated, old, new])
    expected = [new, old, *sorted(undated, key=lambda p: p.id)]
    assert [p.id for p in store.query(PostingFilter())] == [p.id for p in expected]
    assert [p.id for p in store.query(PostingFilter(), limit=2)] == [new.id, old.id]


def test_a_batch_larger_than_one_statement_is_stored_whole(store: PostingStore) -> None:
    batch = [posting(str(i), f"Job {i}") for i in range(CHUNK * 2 + 7)]
    assert store.upsert(batch).created == len(batch)
    assert store.upsert(batch).unchanged == len(batch)
    assert len(store.query(PostingFilter())) == len(batch)


def test_a_match_set_is_stored_in_rank_order_and_replaced_whole(store: PostingStore) -> None:
    a, b, c = posting("a", "A"), posting("b", "B"), posting("c", "C")
    store.upsert([a, b, c])
    task_id = uuid4()
    assert store.matches(task_id) is None
    store.save_matches(
        task_id, [ScoredPosting(posting=b, score=5), ScoredPosting(posting=a, score=2)]
    )
    assert store.matches(task_id) == [
        ScoredPosting(posting=b, score=5),
        ScoredPosting(posting=a, score=2),
    ]
    store.save_matches(task_id, [ScoredPosting(posting=c, score=1)])
    assert store.matches(task_id) == [ScoredPosting(posting=c, score=1)]


def test_an_empty_match_set_differs_from_none(store: PostingStore) -> None:
    task_id = uuid4()
    store.save_matches(task_id, [])
    assert store.matches(task_id) == []


def test_a_match_set_shows_the_current_content_of_its_postings(store: PostingStore) -> None:
    a = posting("a", "Cook")
    store.upsert([a])
    task_id = uuid4()
    store.save_matches(task_id, [ScoredPosting(posting=a, score=3)])
    store.upsert([evolve(a, title="Head Cook")])
    [match] = store.matches(task_id) or []
    assert match.posting.title == "Head Cook"


def test_a_delivery_is_remembered_and_recording_it_twice_is_harmless(
    deliveries: DeliveryLog,
) -> None:
    assert not deliveries.was_delivered("<a@example.org>")
    deliveries.record_delivery("<a@example.org>", task_id=uuid4(), at=START)
    deliveries.record_delivery("<a@example.org>", task_id=uuid4(), at=START)
    assert deliveries.was_delivered("<a@example.org>")
    assert not deliveries.was_delivered("<b@example.org>")


def test_concurrent_fetches_of_one_feed_store_each_posting_once(store: PostingStore) -> None:
    batch = [posting(str(i), f"Job {i}") for i in range(200)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            barrier.wait()
            store.upsert(batch)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.query(PostingFilter())) == len(batch)
