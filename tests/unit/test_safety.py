"""The NHS-number guard and the Markdown renderer."""

import re
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from network.errors import Invalid
from network.safety import (
    EXCERPT_LENGTH,
    MAX_SEPARATOR_RUN,
    excerpt,
    find_nhs_numbers,
    is_valid_nhs_number,
    refuse_nhs_numbers,
    render_markdown,
)


def _with_check_digit(nine: str) -> str | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else nine + str(check)


def _found(text: str) -> list[str]:
    """The digits of every NHS number found, whatever the separators."""
    return [re.sub(r"[^0-9]", "", number) for number in find_nhs_numbers(text)]


nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)
valid_numbers = nine_digits.map(_with_check_digit).filter(lambda n: n is not None)
ten_digits = st.text(alphabet="0123456789", min_size=10, max_size=10)
failing_numbers = ten_digits.filter(lambda n: not is_valid_nhs_number(n))

# Prose that can neither put a digit next to the number nor swallow it into an entity.
prose = st.text(
    alphabet=st.one_of(
        st.characters(categories=["Lu", "Ll", "Zs"]), st.sampled_from(".,;:!?'\"\n")
    ),
    max_size=30,
)

VISIBLE_SEPARATORS = [
    " ", "  ", "\t", "\n", "\n\n", "-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014",
    "\u2015", "\u2212", "\ufe63", "\uff0d", "\u00a0", "\u2002", "\u2003", "\u2007", "\u2009",
    "\u200a", "\u202f", "\u205f", "\u3000", "\u2028", ".", "\u00b7", "\u2022", "\u3002", "/",
    "\\", "\u2044", "\u2215", "(", ")", "[", "]", "{", "}", "<", ">", "\uff08", "\uff09",
    "&nbsp;", "&#8211;", "&ndash;", "&mdash;", "&#x2013;", "&thinsp;", "&minus;", "&#32;",
]  # fmt: skip
MARKDOWN_MARKERS = ["*", "**", "_", "__", "`", "~~"]
INVISIBLE = ["\u200b", "\u00ad", "\u2060", "\ufeff", "\u200e", "\u2061", "&#8203;", "&shy;"]
# A run of invisible marks alone joins two groups into one (3-7, 6-4), so each run shows something.
separator_runs = (
    st.lists(
        st.sampled_from(VISIBLE_SEPARATORS + MARKDOWN_MARKERS + INVISIBLE), min_size=1, max_size=4
    )
    .filter(lambda tokens: not set(tokens) <= set(INVISIBLE))
    .map("".join)
)
visible_separator_runs = st.lists(st.sampled_from(VISIBLE_SEPARATORS), min_size=1, max_size=4).map(
    "".join
)

# Ways of writing one digit that a reader sees as that digit.
DIGIT_FORMS = [
    str,
    lambda d: chr(0xFF10 + int(d)),  # fullwidth
    lambda d: chr(0x1D7CE + int(d)),  # mathematical bold
    lambda d: chr(0x0660 + int(d)),  # Arabic-Indic
    lambda d: f"&#{ord(d)};",
    lambda d: f"&#x{ord(d):x};",
]


@st.composite
def written_digits(draw, digits: str) -> str:
    written = ""
    for i, digit in enumerate(digits):
        if i and draw(st.integers(0, 9)) == 0:
            written += draw(st.sampled_from(INVISIBLE))
        written += draw(st.sampled_from(DIGIT_FORMS))(digit)
    return written


@st.composite
def written_nhs_numbers(draw, numbers=valid_numbers) -> str:
    number = draw(numbers)
    if draw(st.booleans()):
        return draw(written_digits(number))
    return (
        draw(written_digits(number[:3]))
        + draw(separator_runs)
        + draw(written_digits(number[3:6]))
        + draw(separator_runs)
        + draw(written_digits(number[6:]))
    )


# Writing the number


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


@given(st.data(), valid_numbers, prose, prose)
def test_a_valid_nhs_number_in_any_form_and_any_separators_is_found(data, number, before, after):
    written = data.draw(written_nhs_numbers(numbers=st.just(number)))
    assert _found(before + written + after) == [number]


def test_unbroken_digits_are_caught():
    assert _found("patient 9434765919 seen") == ["9434765919"]


def test_single_spaces_between_groups_are_caught():
    assert _found("patient 401 023 2137 seen") == ["4010232137"]


def test_several_spaces_between_groups_are_caught():
    assert _found("943   476    5919") == ["9434765919"]


def test_tabs_between_groups_are_caught():
    assert _found("943\t476\t\t5919") == ["9434765919"]


def test_new_lines_between_groups_are_caught():
    assert _found("NHS no:\n943\n476\r\n5919") == ["9434765919"]


def test_ascii_dashes_between_groups_are_caught():
    assert _found("943-476-5919") == ["9434765919"]


def test_dots_between_groups_are_caught():
    assert _found("943.476.5919") == ["9434765919"]


def test_slashes_between_groups_are_caught():
    assert _found("943/476/5919 and 943\\476\\5919") == ["9434765919"]


def test_underscores_between_groups_are_caught():
    assert _found("943_476_5919") == ["9434765919"]


@pytest.mark.parametrize("text", ["(943) 476 5919", "[943] [476] [5919]", "{943}-{476}-{5919}"])
def test_brackets_around_groups_are_caught(text):
    assert _found(text) == ["9434765919"]


@pytest.mark.parametrize(
    "dash",
    ["\u2013", "\u2014", "\u2212", "\u2011", "\u2010", "\u2012", "\u2015", "\ufe63", "\uff0d"],
    ids=["en", "em", "minus", "non-breaking", "hyphen", "figure", "bar", "small", "fullwidth"],
)
def test_any_dash_between_groups_is_caught(dash):
    assert _found(f"943{dash}476{dash}5919") == ["9434765919"]


def test_en_dash_between_groups_is_caught():
    assert _found("943\u2013476\u20135919") == ["9434765919"]


def test_minus_sign_between_groups_is_caught():
    assert _found("943 \u2212 476 \u2212 5919") == ["9434765919"]


@pytest.mark.parametrize(
    "space",
    ["\u00a0", "\u202f", "\u2009", "\u3000", "\u2002", "\u2007", "\u205f", "\u2028"],
    ids=["nbsp", "narrow-nbsp", "thin", "ideographic", "en", "figure", "math", "line-sep"],
)
def test_any_unicode_space_between_groups_is_caught(space):
    assert _found(f"943{space}476{space}5919") == ["9434765919"]


def test_non_breaking_space_between_groups_is_caught():
    assert _found("943\u00a0476\u00a05919") == ["9434765919"]


@pytest.mark.parametrize(
    "text",
    [
        "943 **476** 5919",
        "943 _476_ 5919",
        "`943` 476 5919",
        "~~943~~ 476 5919",
        "***943*** 476 5919",
    ],
)
def test_markdown_emphasis_between_groups_is_caught(text):
    assert _found(text) == ["9434765919"]


def test_html_entities_between_groups_are_caught():
    assert _found("943&nbsp;476&#8211;5919") == ["9434765919"]


@pytest.mark.parametrize("text", ["&#57;43 476 5919", "&#x39;&#x34;&#x33; 476 5919"])
def test_digits_written_as_entities_are_caught(text):
    assert _found(text) == ["9434765919"]


@pytest.mark.parametrize(
    "mark",
    ["\u200b", "\u00ad", "\u2060", "\ufeff", "\u200e", "\u2066"],
    ids=["zero-width-space", "soft-hyphen", "word-joiner", "bom", "lrm", "isolate"],
)
def test_invisible_formatting_between_groups_is_caught(mark):
    assert _found(f"943{mark}476{mark}5919") == ["9434765919"]
    assert _found(f"943 {mark}476{mark} 5919") == ["9434765919"]


def test_invisible_formatting_inside_a_group_does_not_split_it():
    assert _found("94\u200b3 476 5919") == ["9434765919"]
    assert _found("943 4\u00ad7\u20606 59\ufeff19") == ["9434765919"]


def test_fullwidth_digits_are_caught():
    assert _found("\uff19\uff14\uff13 \uff14\uff17\uff16 \uff15\uff19\uff11\uff19") == [
        "9434765919"
    ]


def test_digits_of_other_scripts_are_caught():
    assert _found("\u0669\u0664\u0663 \u0664\u0667\u0666 \u0665\u0669\u0661\u0669") == [
        "9434765919"
    ]


def test_a_number_split_by_a_link_is_caught_in_the_rendered_text():
    assert _found("[943](https://example.org) 476 5919") == ["9434765919"]


def test_a_number_split_across_table_cells_is_caught_in_the_rendered_text():
    assert _found("| 943 | 476 | 5919 |\n|---|---|---|") == ["9434765919"]


def test_a_number_in_a_numbered_list_is_caught():
    assert _found("1. 943 476 5919\n2. 401 023 2137") == ["9434765919", "4010232137"]


def test_a_run_of_separators_up_to_the_bound_joins_groups():
    assert _found("943" + " " * MAX_SEPARATOR_RUN + "476 5919") == ["9434765919"]


def test_a_run_of_separators_beyond_the_bound_does_not_join_groups():
    assert _found("943" + "." * (MAX_SEPARATOR_RUN + 1) + "476 5919") == []


def test_a_long_run_of_white_space_is_one_space_as_a_browser_shows_it():
    assert _found("943" + " " * 40 + "476\n\n\t 5919") == ["9434765919"]


@pytest.mark.parametrize(
    "text",
    [
        "Patient 943!476!5919",  # lists' excerpts drop the marks: 943 476 5919
        "943|476|5919",
        "943,476,5919",
        "943:476:5919",
        "943'476'5919",
        "943+476+5919",
        "943\u3164476\u31645919",  # Hangul filler, shown as a blank
        "943\u2800476\u28005919",  # braille blank
        "ref +0 9434765919",  # no country code starts with 0
    ],
)
def test_what_the_review_slipped_past_the_guard_is_caught(text):
    assert _found(text)


def test_a_number_written_twice_is_reported_once():
    assert find_nhs_numbers("943 476 5919, again 943-476-5919") == ["943 476 5919"]


# Ordinary numbers


@pytest.mark.parametrize(
    "text",
    [
        "020 7946 0958",
        "0161 496 0000",
        "07700 900123",
        "+44 20 7946 0958",
        "(01632) 960 001",
        "+44 161 496 0003",
        "+44 (0)161 496 0003",
        "2026-12-06",
        "06/12/2026",
        "6.12.2026",
        "14:30 to 16:45:00",
        "A81001 and U12345",
        "£1,234,567.89 and £9,434,765,919",
        "1234567890",
        "123 456 7890",
        "19434765919",
        "94347659190",
        "1943 476 5919",
        "943 476 59190",
        "1\u200b943 476 5919",
        "94 3476 5919",
        "9434 765 919",
        "94347 65919",
    ],
)
def test_ordinary_numbers_are_not_nhs_numbers(text):
    assert find_nhs_numbers(text) == []


def test_a_valid_number_after_a_dialling_code_is_a_phone_number():
    assert _found("161 496 0003") == ["1614960003"]
    assert _found("call +44 161 496 0003") == []


_PHONE_FORMATS = [
    "0## #### ####",
    "0### ### ####",
    "0#### ######",
    "07### ######",
    "(0####) ### ###",
    "(0###) ### ####",
    "0##########",
    "+44 ## #### ####",
    "+44 ### ### ####",
    "+44 (0)### ### ####",
    "+44 #### ######",
    "+44 7### ######",
    "+44##########",
]


@st.composite
def phone_numbers(draw) -> str:
    template = draw(st.sampled_from(_PHONE_FORMATS))
    separator = draw(st.sampled_from([" ", "-", "\u00a0"]))
    digits = iter(draw(st.text(alphabet="0123456789", min_size=11, max_size=11)))
    return "".join(next(digits) if c == "#" else separator if c == " " else c for c in template)


@given(phone_numbers(), prose, prose)
def test_uk_phone_numbers_in_their_usual_groupings_are_not_nhs_numbers(phone, before, after):
    assert find_nhs_numbers(f"{before} {phone} {after}") == []


_DATE_FORMATS = [
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d/%m/%y",
    "{d.day}.{d.month}.{d.year}",
    "%d %B %Y",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M",
]


@given(st.datetimes(), st.sampled_from(_DATE_FORMATS), prose, prose)
def test_dates_and_times_are_not_nhs_numbers(when, template, before, after):
    written = when.strftime(template).format(d=when)
    assert find_nhs_numbers(f"{before} {written} {after}") == []


@given(st.from_regex(r"[A-Z][0-9]{5}|[A-Z]{3}|[A-Z][0-9]{2}[A-Z]{2}", fullmatch=True), prose)
def test_ods_codes_are_not_nhs_numbers(code, before):
    assert find_nhs_numbers(f"{before} {code}, {code}") == []


@given(st.integers(0, 10**11), st.integers(0, 10**9 - 1), st.integers(0, 99))
def test_sums_of_money_are_not_nhs_numbers(large, pounds, pence):
    # Ten unbroken digits are an NHS number whatever precedes them, so plain sums stay under £1bn.
    assert find_nhs_numbers(f"cost £{large:,}.{pence:02d} or £{pounds}.{pence:02d}") == []


@given(st.data(), prose, prose)
def test_ten_digits_failing_the_check_are_not_nhs_numbers(data, before, after):
    written = data.draw(written_nhs_numbers(numbers=failing_numbers))
    assert find_nhs_numbers(before + written + after) == []


@given(valid_numbers, st.integers(min_value=1, max_value=9))
def test_a_wrong_check_digit_is_not_an_nhs_number(number, shift):
    wrong = number[:9] + str((int(number[9]) + shift) % 10)
    assume(not is_valid_nhs_number(wrong))
    assert find_nhs_numbers(f"call {wrong} now") == []


@given(valid_numbers, st.text(alphabet="0123456789", min_size=1, max_size=3))
def test_digits_inside_a_longer_number_are_not_an_nhs_number(number, extra):
    assert number not in find_nhs_numbers(number + extra)


@given(
    st.data(),
    st.text(alphabet="0123456789", min_size=1, max_size=3),
    st.text(alphabet="0123456789", max_size=3),
    st.sampled_from(["", "\u200b", "\u00ad"]),
)
def test_a_valid_number_with_a_digit_next_to_it_is_not_an_nhs_number(data, prefix, suffix, glue):
    written = data.draw(written_nhs_numbers())
    assert find_nhs_numbers(f"ref {prefix}{glue}{written}{glue}{suffix} ref") == []
    assert find_nhs_numbers(f"ref {written}{glue}{prefix} ref") == []


@st.composite
def other_groupings(draw) -> list[str]:
    """Ten digits cut into groups other than unbroken or 3-3-4."""
    digits = draw(st.one_of(valid_numbers, ten_digits))
    cuts = sorted(draw(st.sets(st.integers(1, 9), min_size=1)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, 10], strict=True)]
    assume([len(g) for g in groups] != [3, 3, 4])
    return groups


@given(other_groupings(), st.data(), prose, prose)
def test_ten_digits_grouped_other_than_3_3_4_are_not_nhs_numbers(groups, data, before, after):
    written = groups[0]
    for group in groups[1:]:
        written += data.draw(visible_separator_runs) + group
    assert find_nhs_numbers(f"{before} {written} {after}") == []


# Hostile input


@pytest.mark.parametrize(
    "text",
    [
        "1 " * 25000,
        "943 " * 12500,
        "943 476 " * 6250,
        ("943" + "-" * MAX_SEPARATOR_RUN) * 2630,
        ("1" + "\u2013 " * 8) * 2940,
        "9" * 50000,
        "\u200b9" * 25000,
        "&#57;" * 10000,
        "**9** " * 8333,
        "943 476 5919 " * 3846,
    ],
    ids=[
        "digit-space",
        "groups",
        "pairs",
        "long-dashes",
        "unicode-runs",
        "one-run",
        "invisible",
        "entities",
        "emphasis",
        "numbers",
    ],
)
def test_a_long_hostile_text_is_scanned_in_linear_time(text):
    """Four times the text takes about four times as long (a quadratic scan: sixteen). Compared
    as a ratio, the best of three runs each, so a busy machine does not decide it."""

    def best(sample: str) -> float:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            find_nhs_numbers(sample)
            runs.append(time.perf_counter() - started)
        return min(runs)

    quarter = text[: len(text) // 4]
    assert best(text) < 8 * best(quarter) + 0.05


# Refusing


def test_known_examples():
    assert is_valid_nhs_number("9434765919")
    assert is_valid_nhs_number("4010232137")
    assert not is_valid_nhs_number("9434765918")
    assert not is_valid_nhs_number("1234567890")
    assert not is_valid_nhs_number("\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19")
    assert find_nhs_numbers("ring 01642 672351") == []


def test_a_check_digit_of_ten_makes_no_number_valid():
    # 1*10 + 1*2 = 12; 11 - 12 % 11 = 10
    assert not any(is_valid_nhs_number("100000001" + d) for d in "0123456789")
    assert find_nhs_numbers("100 000 0010 or 1000000010") == []


def test_refusal_names_the_number_and_the_field():
    with pytest.raises(Invalid) as refused:
        refuse_nhs_numbers([("title", "fine"), ("body", "patient 943 476 5919 again")])
    assert refused.value.field == "body"
    assert "943 476 5919" in refused.value.message
    assert "Patient-identifiable information must not be posted" in refused.value.message


def test_refusal_names_the_number_as_a_reader_sees_it():
    with pytest.raises(Invalid) as refused:
        refuse_nhs_numbers([("note", "NHS &#57;43\u200b\n476\u00a05919"), ("body", None)])
    assert refused.value.field == "note"
    assert "943 476 5919" in refused.value.message


def test_refusal_passes_text_without_a_number():
    refuse_nhs_numbers([("title", "Phone 020 7946 0958 on 06/12/2026"), ("body", None)])


# Markdown


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


# Markdown as people write it (GitHub-flavoured)


def test_simple_markdown_renders_as_before():
    assert render_markdown("Each one **separately**.") == (
        "<p>Each one <strong>separately</strong>.</p>\n"
    )
    assert render_markdown("# Letters\n\n> quoted *text*") == (
        "<h1>Letters</h1>\n<blockquote>\n<p>quoted <em>text</em></p>\n</blockquote>\n"
    )


def test_strikethrough_is_rendered_as_deleted_text():
    assert render_markdown("~~weekly~~ daily") == "<p><del>weekly</del> daily</p>\n"


def test_tables_keep_their_alignment():
    html = render_markdown("| a | b | c | d |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |")
    assert '<th align="left">a</th>' in html and '<td align="left">1</td>' in html
    assert '<th align="center">b</th>' in html and '<td align="right">3</td>' in html
    assert "<th>d</th>" in html and "<td>4</td>" in html
    assert "style" not in html


def test_a_task_list_renders_disabled_checkboxes():
    html = render_markdown("- [ ] todo\n- [x] done\n- plain")
    items = re.findall(r"<li>(.*?)</li>", html)
    assert items == [
        '<input disabled="" type="checkbox"> todo',
        '<input disabled="" type="checkbox" checked=""> done',
        "plain",
    ]


def test_a_bare_url_becomes_a_safe_link():
    html = render_markdown("See https://example.nhs.uk/a-b_c. Thanks")
    assert html == (
        '<p>See <a href="https://example.nhs.uk/a-b_c" rel="noopener noreferrer nofollow">'
        "https://example.nhs.uk/a-b_c</a>. Thanks</p>\n"
    )


def test_a_bare_www_address_becomes_a_link_but_a_file_name_does_not():
    html = render_markdown("www.nhs.uk and readme.md, notes.py or today.It was")
    assert '<a href="http://www.nhs.uk" rel="noopener noreferrer nofollow">www.nhs.uk</a>' in html
    assert "readme.md, notes.py or today.It was" in html


def test_an_email_address_becomes_a_mailto_link():
    assert render_markdown("ask ana@example.org") == (
        '<p>ask <a href="mailto:ana@example.org" rel="noopener noreferrer nofollow">'
        "ana@example.org</a></p>\n"
    )


@pytest.mark.parametrize(
    "text",
    ["a://" * 12500, ":" * 50000, "www." * 12500, "a@" * 25000, "https://x.org/ " * 3300],
    ids=["schemes", "colons", "www", "at-signs", "urls"],
)
def test_autolinking_a_long_hostile_text_takes_linear_time(text):
    started = time.perf_counter()
    render_markdown(text)
    excerpt(text)
    assert time.perf_counter() - started < 2


def test_raw_html_is_shown_as_text():
    assert render_markdown("<b>bold</b> & <i>x</i>") == (
        "<p>&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;x&lt;/i&gt;</p>\n"
    )


@pytest.mark.parametrize(
    "markdown",
    [
        '- [x] <input type="text" onfocus="alert(1)" autofocus>',
        '- [ ] " onclick="alert(1)',
        "- [x] done <img src=x onerror=alert(1)>",
        "- [ ] [todo](javascript:alert(1))",
        'javascript:alert(1) and https://x.org/"onmouseover="alert(1)',
        "<script>alert(1)</script>\n\n- [ ] <script>alert(1)</script>",
        "| a |\n|---|\n| <td onclick=x> |",
        '<input type="checkbox" onclick="alert(1)" checked>',
    ],
)
def test_hostile_markdown_gets_no_scripts_handlers_or_inputs_of_its_own(markdown):
    html = render_markdown(markdown)
    tags = re.findall(r"<[a-z][^>]*>", html)
    assert not [t for t in tags if t.startswith(("<script", "<img", "<iframe"))]
    assert not [t for t in tags if re.search(r"\son\w+=|javascript:|style=", t, re.IGNORECASE)]
    inputs = [t for t in tags if t.startswith("<input")]
    assert all(
        re.fullmatch(r'<input disabled="" type="checkbox"( checked="")?>', t) for t in inputs
    )
    assert len(inputs) <= markdown.count("- [")


def test_a_number_split_by_strikethrough_is_still_caught():
    assert _found("94~~3~~4765919") == ["9434765919"]
    assert _found("- [x] 943 476 5919") == ["9434765919"]


# Excerpts


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("GP-led clinics for A&E/111 (see list)", "GP-led clinics for A&E/111 (see list)"),
        ("See https://example.nhs.uk/a-b_c, then", "See https://example.nhs.uk/a-b_c, then"),
        ("See <https://example.nhs.uk/a-b_c>", "See https://example.nhs.uk/a-b_c"),
        ("# Letters\n\n> They **arrive** as _five_", "Letters They arrive as five"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "a b 1 2"),
        ("Read [the list](https://example.org/list) first", "Read the list first"),
        ("A chart: ![Waiting times, May](chart.png).", "A chart: Waiting times, May."),
        ("Run `ls -la | wc` now", "Run ls -la | wc now"),
        ("~~weekly~~ daily", "weekly daily"),
        ("- [ ] todo\n- [x] done", "todo done"),
        ("1. one\n2. two\n\n---\n\nthree", "one two three"),
        ("<b>bold</b> and <span class='x'>plain</span><br>next", "bold and plain next"),
        ("<!-- note --> kept", "kept"),
        ("Fish &amp; chips &lt;3 &copy; 1 < 2 > 0", "Fish & chips <3 © 1 < 2 > 0"),
        ("line one\nline two  \nline three", "line one line two line three"),
        ("```\ncode -x\n```\nafter", "code -x after"),
        ("", ""),
    ],
)
def test_an_excerpt_is_the_text_a_reader_sees(markdown, expected):
    assert excerpt(markdown) == expected


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script> hello",
        '<img src=x onerror="alert(1)"> hello',
        "- [x] <input type=checkbox onclick=alert(1)> hello",
        '<a href="javascript:alert(1)">hello</a>',
        '[hello](https://x.org/ "title")',
    ],
)
def test_an_excerpt_of_hostile_input_shows_no_tags_or_link_syntax(markdown):
    plain = excerpt(markdown)
    assert plain.endswith("hello")
    assert not re.search(r"<[a-z/]|\]\(|javascript", plain, re.IGNORECASE)


def test_a_link_that_is_never_rendered_is_shown_as_a_reader_sees_it():
    # markdown-it refuses the URL, so the reader sees the text as written, not a link.
    assert "href" not in render_markdown("[x](javascript:alert(1)) hello")
    assert excerpt("[x](javascript:alert(1)) hello") == "[x](javascript:alert(1)) hello"


def test_an_excerpt_is_cut_on_a_word_boundary():
    text = " ".join(["referral"] * 40)
    cut = excerpt(text)
    assert len(cut) <= EXCERPT_LENGTH and cut.endswith("referral…")
    assert text.startswith(cut[:-1])


def test_an_excerpt_that_just_fits_is_not_cut():
    text = "a" * (EXCERPT_LENGTH - 1) + " b"
    assert excerpt(text[:EXCERPT_LENGTH]) == text[:EXCERPT_LENGTH].rstrip()
    assert excerpt(text) == "a" * (EXCERPT_LENGTH - 1) + "…"


def test_a_word_longer_than_the_excerpt_is_cut_where_it_must_be():
    assert excerpt("x" * 500) == "x" * (EXCERPT_LENGTH - 1) + "…"


def test_an_excerpt_keeps_its_length_contract_for_a_custom_length():
    assert excerpt("one two three four", length=10) == "one two…"


@given(st.text(max_size=600))
def test_an_excerpt_is_never_longer_than_the_column(text):
    plain = excerpt(text)
    assert len(plain) <= EXCERPT_LENGTH
    assert plain == " ".join(plain.split())


@pytest.mark.parametrize(
    ("markdown", "linked"),
    [
        ("(see https://en.wikipedia.org/wiki/A_(b)).", ["https://en.wikipedia.org/wiki/A_(b)"]),
        ("https://x.org/a?b=1&c=2, then", ["https://x.org/a?b=1&amp;c=2"]),
        ("Visit www.nhs.uk/111.", ["http://www.nhs.uk/111"]),
        ("http://localhost:5000/x", ["http://localhost:5000/x"]),
        ("**https://x.org/a**", ["https://x.org/a"]),
        ("email ana.b+c@example.nhs.uk.", ["mailto:ana.b+c@example.nhs.uk"]),
        ("www.x_y.com, a@b.c-, www., https://, x://y.org, ftp://x.org, //x.org", []),
        ("xhttps://x.org and http\\://x.org", []),
        ("`https://x.org` and [a](https://y.org)", ["https://y.org"]),
    ],
)
def test_addresses_are_linked_as_github_links_them(markdown, linked):
    assert re.findall(r'href="([^"]*)"', render_markdown(markdown)) == linked


def test_an_excerpt_reads_reference_links_and_nested_markup():
    markdown = "See [the list][1] and **_[bold link](https://x.org)_**.\n\n[1]: https://x.org/list"
    assert excerpt(markdown) == "See the list and bold link."
