"""The scoring rule of domain.matching, by example and as properties."""

from __future__ import annotations

from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.matching import MAX_LIMIT, Profile, rank, score
from domain.postings import JobPosting
from tests.handlers.support import START, posting

WORDS = ["python", "data", "engineer", "rust", "remote", "berlin", "sql", "go", "senior", "lead"]


def test_a_keyword_in_the_title_outweighs_one_in_the_description() -> None:
    profile = Profile(keywords=["python"])
    in_title = posting("1", "Python Developer")
    in_body = posting("2", "Developer", description="We use Python daily.")
    assert score(in_title, profile) == 3
    assert score(in_body, profile) == 1


def test_keywords_match_whole_words_ignoring_case() -> None:
    profile = Profile(keywords=["Java", "data engineer"])
    assert score(posting("1", "JavaScript Developer"), profile) == 0
    assert score(posting("2", "Senior DATA Engineer"), profile) == 3
    assert score(posting("3", "Data Platform Engineer"), profile) == 0


def test_location_and_remote_are_bonuses_that_never_make_a_match_alone() -> None:
    profile = Profile(keywords=["python"], location="Berlin", remote=True)
    nothing = posting("1", "Chef", location="Berlin, Germany", remote=True)
    everything = posting("2", "Python Engineer", location="Berlin, Germany", remote=True)
    assert score(nothing, profile) == 0
    assert score(everything, profile) == 3 + 2 + 2


def test_ties_are_broken_by_posting_id() -> None:
    a, b = posting("a", "Python Engineer"), posting("b", "Python Developer")
    ranked = rank([a, b], Profile(keywords=["python"]))
    assert [m.posting_id for m in ranked] == sorted([a.id, b.id])


def test_a_profile_needs_a_keyword_and_a_sane_limit() -> None:
    with pytest.raises(ValueError, match="keywords"):
        Profile(keywords=["  ", "!!"])
    with pytest.raises(ValueError, match="limit"):
        Profile(keywords=["python"], limit=MAX_LIMIT + 1)


texts = st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join)
postings_strategy = st.lists(
    st.builds(
        lambda i, title, body, location, remote: JobPosting(
            source="prop",
            external_id=str(i),
            title=title or "untitled",
            description=body,
            location=location,
            remote=remote,
            fetched_at=START,
        ),
        st.integers(0, 10_000),
        texts,
        texts,
        texts,
        st.booleans(),
    ),
    max_size=30,
    unique_by=lambda p: p.external_id,
)
profiles = st.builds(
    Profile,
    keywords=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
    location=st.none() | st.sampled_from(WORDS),
    remote=st.none() | st.booleans(),
    limit=st.integers(1, MAX_LIMIT),
)


@given(postings_strategy, profiles, st.randoms())
def test_ranking_does_not_depend_on_input_order(
    postings: list[JobPosting], profile: Profile, random: Random
) -> None:
    shuffled = list(postings)
    random.shuffle(shuffled)
    assert rank(shuffled, profile) == rank(postings, profile)


@given(postings_strategy, profiles)
def test_ranking_is_ordered_by_score_then_id_and_holds_only_matches(
    postings: list[JobPosting], profile: Profile
) -> None:
    ranked = rank(postings, profile)
    keys = [(-m.score, m.posting_id) for m in ranked]
    assert keys == sorted(keys)
    assert all(m.score == score(m.posting, profile) > 0 for m in ranked)
    assert len(ranked) == sum(1 for p in postings if score(p, profile) > 0)


@given(postings_strategy, profiles)
def test_the_top_of_a_ranking_is_bounded_by_the_limit_and_is_its_best(
    postings: list[JobPosting], profile: Profile
) -> None:
    ranked = rank(postings, profile)
    top = ranked[: profile.limit]
    assert len(top) <= profile.limit
    rest = ranked[profile.limit :]
    assert all(t.score >= r.score for t in top for r in rest)


@given(texts, texts, profiles)
def test_adding_a_keyword_to_the_title_never_lowers_the_score(
    title: str, body: str, profile: Profile
) -> None:
    before = posting("x", title or "untitled", description=body)
    after = posting("x", f"{title} {profile.keywords[0]}", description=body)
    assert score(after, profile) >= score(before, profile)
    assert score(after, profile) > 0
