"""The NHS-number guard and the Markdown renderer."""

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from network.errors import Invalid
from network.safety import (
    find_nhs_numbers,
    is_valid_nhs_number,
    refuse_nhs_numbers,
    render_markdown,
)


def _with_check_digit(nine: str) -> str | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else nine + str(check)


nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)
valid_numbers = nine_digits.map(_with_check_digit).filter(lambda n: n is not None)


def _formats(number: str) -> list[str]:
    return [
        number,
        f"{number[:3]} {number[3:6]} {number[6:]}",
        f"{number[:3]}-{number[3:6]}-{number[6:]}",
    ]


@given(valid_numbers, st.sampled_from([0, 1, 2]), st.text(alphabet="abc .,\n", max_size=20))
def test_a_valid_nhs_number_is_found_however_it_is_written(number, style, around):
    written = _formats(number)[style]
    assert find_nhs_numbers(f"{around} {written} {around}") == [written]


@given(valid_numbers, st.integers(min_value=1, max_value=9))
def test_a_wrong_check_digit_is_not_an_nhs_number(number, shift):
    wrong = number[:9] + str((int(number[9]) + shift) % 10)
    assume(not is_valid_nhs_number(wrong))
    assert find_nhs_numbers(f"call {wrong} now") == []


@given(valid_numbers, st.text(alphabet="0123456789", min_size=1, max_size=3))
def test_digits_inside_a_longer_number_are_not_an_nhs_number(number, extra):
    assert number not in find_nhs_numbers(number + extra)


def test_known_examples():
    assert is_valid_nhs_number("9434765919")
    assert not is_valid_nhs_number("9434765918")
    assert find_nhs_numbers("ring 01642 672351") == []


def test_refusal_names_the_number_and_the_field():
    with pytest.raises(Invalid) as refused:
        refuse_nhs_numbers([("title", "fine"), ("body", "patient 943 476 5919 again")])
    assert refused.value.field == "body"
    assert "943 476 5919" in refused.value.message
    assert "Patient-identifiable information must not be posted" in refused.value.message


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="https://x" onclick="steal()">x</a>',
        "[x](JaVaScRiPt:alert(1))",
    ],
)
def test_markdown_never_renders_scripts_handlers_or_javascript_urls(markdown):
    html = render_markdown(markdown)
    tags = re.findall(r"<[a-z][^>]*>", html)
    assert not [t for t in tags if t.startswith(("<script", "<img", "<iframe"))]
    assert not [t for t in tags if re.search(r"\son\w+=|javascript:", t, re.IGNORECASE)]


def test_markdown_renders_emphasis_lists_and_safe_links():
    html = render_markdown("**bold**\n\n- one\n- two\n\n[NHS](https://www.nhs.uk)")
    assert "<strong>bold</strong>" in html and "<li>one</li>" in html
    assert '<a href="https://www.nhs.uk" rel="noopener noreferrer nofollow">NHS</a>' in html
