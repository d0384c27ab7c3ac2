"""Field-name rules: spelling styles, plurals, fall-through by type and struct context."""

from __future__ import annotations

import pytest

from thriftbox.values.hints import candidates, normalize, split_by, true_probability


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("firstName", "first_name"),
        ("FirstName", "first_name"),
        ("first_name", "first_name"),
        ("FIRST_NAME", "first_name"),
        ("first-name", "first_name"),
        ("imageURL", "image_url"),
        ("imageURLs", "image_url"),
        ("userIDs", "user_id"),
        ("IPv4Address", "ipv4_address"),
        ("addressLine2", "address_line"),
        ("categories", "category"),
        ("status", "status"),
        ("isbn13", "isbn13"),
    ],
)
def test_normalize_folds_styles_plurals_and_numbers(name: str, expected: str) -> None:
    assert normalize(name) == expected


@pytest.mark.parametrize(
    ("name", "context", "best"),
    [
        ("email", None, "email"),
        ("emailAddress", None, "email"),
        ("ipAddress", None, "ipv4"),
        ("homeAddress", None, "street"),
        ("createdAt", None, "timestamp"),
        ("expiresAt", None, "future_timestamp"),
        ("timeoutMs", None, "duration"),
        ("totalPrice", None, "price"),
        ("avatarUrl", None, "image_url"),
        ("homepageUrl", None, "url"),
        ("name", "User", "name"),
        ("name", "Company", "company"),
        ("name", "Product", "product"),
        ("name", "Table", "identifier"),
        ("productName", None, "product"),
        ("title", "Employee", "job"),
        ("title", "Article", "product"),
        ("state", "Address", "state"),
        ("state", "Job", "status"),
        ("discountPercent", None, "discount"),
    ],
)
def test_best_candidate(name: str, context: str | None, best: str) -> None:
    assert candidates(name, context)[0] == best


def test_a_name_can_mean_different_things_for_different_types() -> None:
    # an int "comments" is a count, a string one is text: the generator takes the first kind that fits
    assert candidates("comments")[:2] == ("count", "sentence")


def test_unknown_names_have_no_candidates() -> None:
    assert candidates("frobnicator") == ()
    assert candidates(None) == ()


def test_bool_odds_and_map_hints() -> None:
    assert true_probability("isDeleted") < 0.5 < true_probability("is_active")
    assert true_probability("hasChildren") == 0.5
    assert split_by("countsByCountry") == ("count", "country")
    assert split_by("labels") == ("label", None)
