"""The Bacs Standard 18 writer: every field at the columns `payments.bacs` documents, the file's balance, the
round trip through `parse_bacs_file`, and every validation rule, each reported with its pointer.

The expected columns and values below are written out by hand from the layout tables in the module
docstring, not computed from the module, so a shifted or resized field fails here.

The example file: Anytown Council (SUN 123456, 40-11-62 12345678) pays three providers on Wednesday
3 June 2026 (day 154: " 26154"), the file made on Monday 1 June 2026 (day 152: " 26152"), file number 42.
"""

import re
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.bacs import (
    BacsInvalid,
    BacsUnreadable,
    Credit,
    Originator,
    ParsedBacs,
    bacs_file,
    bacs_reference,
    clean_name,
    next_working_day,
    parse_bacs_file,
    working_day_on_or_after,
)

ORIGINATOR = Originator(
    service_user_number="123456",
    sort_code="40-11-62",
    account_number="1234 5678",
    account_name="Anytown Council",
)
BRIGHT = Credit(
    sort_code="20-00-00",
    account_number="55779911",
    account_name="Bright Care Ltd",
    amount_minor=123_456,
    reference="pay_0123456789abcd",
)
ONEILL = Credit(
    sort_code="30 96 34",
    account_number="1234 5679",
    account_name="O'Neill & Sons",
    amount_minor=5,
    reference="pay_zyxwvutsrq9876",
)
ZOE = Credit(
    sort_code="309634",
    account_number="87654321",
    account_name="Zoë's Carers/Co-op",  # 18 characters once cleaned: the longest a name may be
    amount_minor=99_999_999,
    reference="pay_00000000000001",
)
CREDITS = (BRIGHT, ONEILL, ZOE)
TOTAL = 123_456 + 5 + 99_999_999  # 100,123,460 pence
PROCESSING_DAY = date(2026, 6, 3)  # a Wednesday
CREATED_ON = date(2026, 6, 1)  # a Monday
BACS_CHARACTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .&/-")


def _file(**overrides) -> str:
    arguments = {
        "originator": ORIGINATOR,
        "processing_day": PROCESSING_DAY,
        "credits": CREDITS,
        "file_number": 42,
        "created_on": CREATED_ON,
    }
    return bacs_file(**{**arguments, **overrides})


def _records(text: str) -> list[str]:
    assert text.endswith("\r\n")
    return text[: -len("\r\n")].split("\r\n")


def col(record: str, first: int, last: int) -> str:
    """Columns `first` to `last` of a record, both inclusive and 1-based, as the layout tables count."""
    return record[first - 1 : last]


def _blank(record: str, first: int, last: int) -> bool:
    return col(record, first, last) == " " * (last - first + 1)


def _problems(error: pytest.ExceptionInfo[BacsInvalid]) -> set[tuple[str, str]]:
    return {(problem.code, problem.pointer) for problem in error.value.problems}


def _only_problem(**overrides):
    with pytest.raises(BacsInvalid) as error:
        _file(**overrides)
    assert len(error.value.problems) == 1, error.value.problems
    return error.value.problems[0]


class TestLayout:
    """The example file, field by field at the documented columns."""

    def test_records_come_in_the_standard_18_order(self):
        records = _records(_file())

        assert [col(record, 1, 4) for record in records[:4]] == ["VOL1", "HDR1", "HDR2", "UHL1"]
        assert [col(record, 16, 17) for record in records[4:8]] == ["99", "99", "99", "17"]
        assert [col(record, 1, 4) for record in records[8:]] == ["EOF1", "EOF2", "UTL1"]
        assert len(records) == 11

    def test_vol1(self):
        vol1 = _records(_file())[0]

        assert col(vol1, 1, 4) == "VOL1"
        assert col(vol1, 5, 10) == "000042"
        assert _blank(vol1, 11, 41)
        assert col(vol1, 42, 47) == "123456"
        assert _blank(vol1, 48, 79)
        assert col(vol1, 80, 80) == "1"
        assert _blank(vol1, 81, 106)

    def test_hdr1_and_eof1(self):
        records = _records(_file())
        hdr1, eof1 = records[1], records[8]

        for label, record in (("HDR1", hdr1), ("EOF1", eof1)):
            assert col(record, 1, 4) == label
            assert col(record, 5, 5) == "A"
            assert col(record, 6, 11) == "123456"
            assert col(record, 12, 12) == "S"
            assert _blank(record, 13, 15)
            assert col(record, 16, 21) == "123456"
            assert col(record, 22, 27) == "000042"
            assert col(record, 28, 31) == "0001"
            assert col(record, 32, 35) == "0001"
            assert _blank(record, 36, 41)
            assert col(record, 42, 47) == " 26152"
            assert col(record, 48, 53) == " 26154"
            assert _blank(record, 54, 54)
            assert col(record, 55, 60) == "000000"
            assert _blank(record, 61, 106)

    def test_hdr2_and_eof2(self):
        records = _records(_file())
        hdr2, eof2 = records[2], records[9]

        for label, record in (("HDR2", hdr2), ("EOF2", eof2)):
            assert col(record, 1, 4) == label
            assert col(record, 5, 5) == "F"
            assert col(record, 6, 10) == "02120"
            assert col(record, 11, 15) == "00106"
            assert _blank(record, 16, 50)
            assert col(record, 51, 52) == "00"
            assert _blank(record, 53, 106)

    def test_uhl1(self):
        uhl1 = _records(_file())[3]

        assert col(uhl1, 1, 4) == "UHL1"
        assert col(uhl1, 5, 10) == " 26154"
        assert col(uhl1, 11, 16) == "999999"
        assert _blank(uhl1, 17, 20)
        assert col(uhl1, 21, 22) == "00"
        assert col(uhl1, 23, 28) == "000000"
        assert col(uhl1, 29, 37) == "4 MULTI  "
        assert col(uhl1, 38, 40) == "000"
        assert _blank(uhl1, 41, 106)

    @pytest.mark.parametrize(
        ("index", "sort_code", "account_number", "amount", "reference", "account_name"),
        [
            (0, "200000", "55779911", "00000123456", "PAY-0123456789ABCD", "BRIGHT CARE LTD   "),
            (1, "309634", "12345679", "00000000005", "PAY-ZYXWVUTSRQ9876", "O NEILL & SONS    "),
            (2, "309634", "87654321", "00099999999", "PAY-00000000000001", "ZOE S CARERS/CO-OP"),
        ],
    )
    def test_credit_records(self, index, sort_code, account_number, amount, reference, account_name):
        record = _records(_file())[4 + index]

        assert col(record, 1, 6) == sort_code
        assert col(record, 7, 14) == account_number
        assert col(record, 15, 15) == "0"
        assert col(record, 16, 17) == "99"
        assert col(record, 18, 23) == "401162"
        assert col(record, 24, 31) == "12345678"
        assert _blank(record, 32, 35)
        assert col(record, 36, 46) == amount
        assert col(record, 47, 64) == "ANYTOWN COUNCIL   "
        assert col(record, 65, 82) == reference
        assert col(record, 83, 100) == account_name
        assert col(record, 101, 106) == " 26154"

    def test_contra_debits_the_council_with_the_total(self):
        contra = _records(_file())[7]

        assert col(contra, 1, 6) == "401162"
        assert col(contra, 7, 14) == "12345678"
        assert col(contra, 15, 15) == "0"
        assert col(contra, 16, 17) == "17"
        assert col(contra, 18, 23) == "401162"
        assert col(contra, 24, 31) == "12345678"
        assert _blank(contra, 32, 35)
        assert col(contra, 36, 46) == "00100123460"
        assert col(contra, 47, 64) == "PURSE FILE 000042 "
        assert col(contra, 65, 82) == "CONTRA            "
        assert col(contra, 83, 100) == "ANYTOWN COUNCIL   "
        assert col(contra, 101, 106) == " 26154"

    def test_utl1_carries_the_totals_and_counts(self):
        utl1 = _records(_file())[10]

        assert col(utl1, 1, 4) == "UTL1"
        assert col(utl1, 5, 17) == "0000100123460"  # debits: the contra
        assert col(utl1, 18, 30) == "0000100123460"  # credits
        assert col(utl1, 31, 37) == "0000001"
        assert col(utl1, 38, 44) == "0000003"
        assert _blank(utl1, 45, 106)

    def test_every_record_is_106_ascii_characters_ending_crlf(self):
        text = _file()

        assert text.isascii()
        assert text.endswith("\r\n")
        assert "\n" not in text.replace("\r\n", "")
        assert "\r" not in text.replace("\r\n", "")
        assert {len(record) for record in _records(text)} == {106}

    def test_records_hold_only_bacs_characters(self):
        # The name and reference fields are the ones a person's text reaches; the rest are digits, labels
        # and blanks, which are in the set too.
        for record in _records(_file()):
            assert set(record) <= BACS_CHARACTERS, record

    @pytest.mark.parametrize(
        ("processing_day", "created_on", "bacs_day"),
        [
            (date(2026, 1, 2), date(2026, 1, 2), " 26002"),  # a Friday, early in the year: zero-filled
            (date(2026, 12, 31), date(2026, 12, 30), " 26365"),
            (date(2028, 12, 29), date(2028, 12, 1), " 28364"),  # a leap year: 29 February counts
            (date(2030, 3, 1), date(2030, 2, 28), " 30060"),
        ],
    )
    def test_days_are_written_space_year_day_of_year(self, processing_day, created_on, bacs_day):
        records = _records(_file(processing_day=processing_day, created_on=created_on))

        assert col(records[3], 5, 10) == bacs_day
        assert col(records[4], 101, 106) == bacs_day
        assert col(records[1], 48, 53) == bacs_day

    def test_the_largest_file_number_fills_the_serial(self):
        records = _records(_file(file_number=999_999))

        assert col(records[0], 5, 10) == "999999"
        assert col(records[1], 22, 27) == "999999"
        assert col(records[7], 47, 64) == "PURSE FILE 999999 "

    def test_the_largest_amount_fills_the_field(self):
        credit = replace(BRIGHT, amount_minor=99_999_999_999)
        records = _records(_file(credits=[credit]))

        assert col(records[4], 36, 46) == "99999999999"
        assert col(records[5], 36, 46) == "99999999999"
        assert col(records[-1], 5, 17) == "0099999999999"


class TestRoundTrip:
    def test_parse_gives_back_the_file_as_written(self):
        parsed = parse_bacs_file(_file())

        assert parsed == ParsedBacs(
            originator=Originator(
                service_user_number="123456",
                sort_code="401162",
                account_number="12345678",
                account_name="ANYTOWN COUNCIL",
            ),
            file_number=42,
            created_on=CREATED_ON,
            processing_day=PROCESSING_DAY,
            credits=(
                Credit(
                    sort_code="200000",
                    account_number="55779911",
                    account_name="BRIGHT CARE LTD",
                    amount_minor=123_456,
                    reference="PAY-0123456789ABCD",
                ),
                Credit(
                    sort_code="309634",
                    account_number="12345679",
                    account_name="O NEILL & SONS",
                    amount_minor=5,
                    reference="PAY-ZYXWVUTSRQ9876",
                ),
                Credit(
                    sort_code="309634",
                    account_number="87654321",
                    account_name="ZOE S CARERS/CO-OP",
                    amount_minor=99_999_999,
                    reference="PAY-00000000000001",
                ),
            ),
            contra_amount_minor=TOTAL,
        )
        assert parsed.total_minor == parsed.contra_amount_minor == TOTAL

    def test_a_file_in_file_form_round_trips_exactly(self):
        written = parse_bacs_file(_file())
        again = bacs_file(
            originator=written.originator,
            processing_day=written.processing_day,
            credits=written.credits,
            file_number=written.file_number,
            created_on=written.created_on,
        )

        assert again == _file()

    def test_parse_accepts_lf_endings_and_trimmed_trailing_blanks(self):
        trimmed = "".join(record.rstrip() + "\n" for record in _records(_file()))

        assert parse_bacs_file(trimmed) == parse_bacs_file(_file())

    @settings(max_examples=200, deadline=None)
    @given(
        credits=st.lists(
            st.builds(
                Credit,
                sort_code=st.tuples(
                    st.from_regex(r"[0-9]{6}", fullmatch=True), st.sampled_from(["", "-", " "])
                ).map(lambda parts: parts[1].join([parts[0][0:2], parts[0][2:4], parts[0][4:6]])),
                account_number=st.from_regex(r"[0-9]{8}", fullmatch=True),
                account_name=st.text(
                    alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCXYZ0189 .&/-'(),éüß")),
                    min_size=1,
                    max_size=18,
                ).filter(
                    lambda name: re.search(r"[A-Z0-9]", clean_name(name)) and len(clean_name(name)) <= 18
                ),
                amount_minor=st.integers(min_value=1, max_value=8_000_000_000),
                reference=st.from_regex(r"pay_[0-9a-z]{14}", fullmatch=True),
            ),
            min_size=1,
            max_size=12,
            unique_by=lambda credit: credit.reference,
        ),
        created_on=st.dates(min_value=date(2024, 1, 1), max_value=date(2040, 12, 31)),
        days_ahead=st.integers(min_value=0, max_value=40),
        file_number=st.integers(min_value=1, max_value=999_999),
    )
    def test_any_valid_file_parses_back_to_its_credits(self, credits, created_on, days_ahead, file_number):
        processing_day = working_day_on_or_after(created_on + timedelta(days=days_ahead))

        text = bacs_file(
            originator=ORIGINATOR,
            processing_day=processing_day,
            credits=credits,
            file_number=file_number,
            created_on=created_on,
        )
        parsed = parse_bacs_file(text)

        assert {len(record) for record in _records(text)} == {106}
        assert set(text.replace("\r\n", "")) <= BACS_CHARACTERS
        assert parsed.credits == tuple(
            Credit(
                sort_code=re.sub(r"[ -]", "", credit.sort_code),
                account_number=credit.account_number,
                account_name=clean_name(credit.account_name),
                amount_minor=credit.amount_minor,
                reference=credit.reference.upper().replace("_", "-"),
            )
            for credit in credits
        )
        assert parsed.contra_amount_minor == sum(credit.amount_minor for credit in credits)
        assert (parsed.processing_day, parsed.created_on, parsed.file_number) == (
            processing_day,
            created_on,
            file_number,
        )
        utl1 = _records(text)[-1]
        assert int(col(utl1, 5, 17)) == int(col(utl1, 18, 30)) == parsed.contra_amount_minor
        assert int(col(utl1, 38, 44)) == len(credits)


class TestParseRefuses:
    def _edited(self, index: int, first: int, last: int, value: str) -> str:
        records = _records(_file())
        record = records[index]
        assert len(value) == last - first + 1
        records[index] = record[: first - 1] + value + record[last:]
        return "".join(record + "\r\n" for record in records)

    def test_a_credit_whose_amount_was_changed(self):
        with pytest.raises(BacsUnreadable, match=r"Line 8 .* credits add up to 100123461"):
            parse_bacs_file(self._edited(4, 36, 46, "00000123457"))

    def test_a_trailer_that_disagrees(self):
        with pytest.raises(BacsUnreadable, match=r"Line 11 .* credit item count of 4"):
            parse_bacs_file(self._edited(10, 38, 44, "0000004"))

    def test_a_record_with_another_processing_day(self):
        with pytest.raises(BacsUnreadable, match=r"Line 6 .* processing day other than"):
            parse_bacs_file(self._edited(5, 101, 106, " 26155"))

    def test_a_day_that_is_not_a_bacs_date(self):
        with pytest.raises(BacsUnreadable, match=r"Line 4 .* 2026 has no day 366"):
            parse_bacs_file(self._edited(3, 5, 10, " 26366"))

    def test_a_sort_code_that_is_not_digits(self):
        with pytest.raises(BacsUnreadable, match=r"Line 5 .* sort code"):
            parse_bacs_file(self._edited(4, 1, 6, "20-000"))

    def test_a_missing_trailer(self):
        text = "".join(record + "\r\n" for record in _records(_file())[:-1])

        with pytest.raises(BacsUnreadable):
            parse_bacs_file(text)

    def test_a_record_that_is_too_long(self):
        records = _records(_file())
        records[4] += "X"

        with pytest.raises(BacsUnreadable, match="Line 5 "):
            parse_bacs_file("".join(record + "\r\n" for record in records))

    def test_a_file_without_a_final_line_break(self):
        with pytest.raises(BacsUnreadable):
            parse_bacs_file(_file().removesuffix("\r\n"))


class TestCredits:
    def test_a_bad_sort_code_names_the_credit_and_the_value(self):
        fourth = replace(BRIGHT, sort_code="12-34-5", reference="pay_4444444444abcd")
        problem = _only_problem(credits=[BRIGHT, ONEILL, ZOE, fourth])

        assert (problem.code, problem.pointer) == ("invalid_sort_code", "/credits/3/sort_code")
        assert (
            problem.detail == "Credit 4 (Bright Care Ltd): the sort code must be 6 digits; '12-34-5' is not."
        )

    @pytest.mark.parametrize("sort_code", ["12345", "1234567", "12-34-5X", "12.34.56", "", "١٢٣٤٥٦"])
    def test_sort_codes_that_are_not_six_digits(self, sort_code):
        problem = _only_problem(credits=[replace(BRIGHT, sort_code=sort_code)])

        assert (problem.code, problem.pointer) == ("invalid_sort_code", "/credits/0/sort_code")

    @pytest.mark.parametrize("sort_code", ["12-34-56", "12 34 56", "123456", " 12-34-56 "])
    def test_sort_codes_with_hyphens_or_spaces_are_accepted(self, sort_code):
        record = _records(_file(credits=[replace(BRIGHT, sort_code=sort_code)]))[4]

        assert col(record, 1, 6) == "123456"

    @pytest.mark.parametrize("account_number", ["1234567", "123456789", "ABCDEFGH", "1234567X", ""])
    def test_account_numbers_that_are_not_eight_digits(self, account_number):
        problem = _only_problem(credits=[replace(BRIGHT, account_number=account_number)])

        assert (problem.code, problem.pointer) == ("invalid_account_number", "/credits/0/account_number")
        assert problem.detail.startswith("Credit 1 (Bright Care Ltd): the account number must be 8 digits;")

    def test_an_account_number_with_spaces_is_accepted(self):
        record = _records(_file(credits=[replace(BRIGHT, account_number="5577 9911")]))[4]

        assert col(record, 7, 14) == "55779911"

    def test_a_name_too_long_once_cleaned_is_refused_not_cut(self):
        problem = _only_problem(credits=[replace(BRIGHT, account_name="Bright Care (North) Ltd.")])

        assert (problem.code, problem.pointer) == ("account_name_too_long", "/credits/0/account_name")
        assert "'BRIGHT CARE NORTH LTD.' is 22" in problem.detail

    def test_a_name_of_19_characters_is_refused(self):
        problem = _only_problem(credits=[replace(BRIGHT, account_name="Nineteen Characters")])

        assert problem.code == "account_name_too_long"

    @pytest.mark.parametrize("account_name", ["", "   ", "***", "(-)", "..."])
    def test_a_name_with_no_letter_or_digit_is_refused(self, account_name):
        problem = _only_problem(credits=[replace(BRIGHT, account_name=account_name)])

        assert (problem.code, problem.pointer) == ("account_name_empty", "/credits/0/account_name")

    @pytest.mark.parametrize("amount_minor", [0, -1, -123_456])
    def test_an_amount_of_zero_or_less_is_refused(self, amount_minor):
        problem = _only_problem(credits=[replace(BRIGHT, amount_minor=amount_minor)])

        assert (problem.code, problem.pointer) == ("invalid_amount", "/credits/0/amount_minor")
        assert "must be more than zero" in problem.detail

    @pytest.mark.parametrize("amount_minor", ["1250", True, None])
    def test_an_amount_that_is_not_whole_pence_is_refused(self, amount_minor):
        problem = _only_problem(credits=[replace(BRIGHT, amount_minor=amount_minor)])

        assert (problem.code, problem.pointer) == ("invalid_amount", "/credits/0/amount_minor")
        assert "whole number of pence" in problem.detail

    def test_an_amount_too_large_for_one_record_is_refused(self):
        problem = _only_problem(credits=[replace(BRIGHT, amount_minor=100_000_000_000)])

        assert (problem.code, problem.pointer) == ("amount_too_large", "/credits/0/amount_minor")
        assert "£999,999,999.99" in problem.detail
        assert "£1,000,000,000.00" in problem.detail

    def test_credits_adding_up_to_more_than_the_contra_holds_are_refused(self):
        big = replace(BRIGHT, amount_minor=60_000_000_000)
        other = replace(ONEILL, amount_minor=60_000_000_000)

        problem = _only_problem(credits=[big, other])

        assert (problem.code, problem.pointer) == ("total_too_large", "/credits")

    def test_no_credits_is_refused(self):
        problem = _only_problem(credits=[])

        assert (problem.code, problem.pointer) == ("no_credits", "/credits")

    @pytest.mark.parametrize(
        ("reference", "code"),
        [
            ("pay_0123456789abcde", "reference_too_long"),  # 19 characters
            ("pay:0123456789", "invalid_reference"),  # ":" is not a Bacs character
            ("pay_x", "invalid_reference"),  # fewer than 6 letters and digits
            ("-pay_0123456789", "invalid_reference"),  # must start with a letter or digit
            ("AAAAAAAA", "invalid_reference"),  # one character repeated
            ("contra", "invalid_reference"),  # marks the contra record
            ("", "invalid_reference"),
            (None, "invalid_reference"),
        ],
    )
    def test_references_bacs_cannot_carry_are_refused(self, reference, code):
        problem = _only_problem(credits=[replace(BRIGHT, reference=reference)])

        assert (problem.code, problem.pointer) == (code, "/credits/0/reference")

    def test_a_reference_of_18_characters_fills_the_field(self):
        record = _records(_file(credits=[replace(BRIGHT, reference="INV 2026/06-0001.A")]))[4]

        assert col(record, 65, 82) == "INV 2026/06-0001.A"

    def test_two_credits_with_one_reference_are_refused(self):
        problem = _only_problem(credits=[BRIGHT, replace(ONEILL, reference=BRIGHT.reference.upper())])

        assert (problem.code, problem.pointer) == ("duplicate_reference", "/credits/1/reference")
        assert "Credit 1 (Bright Care Ltd)" in problem.detail

    def test_every_problem_of_every_credit_is_reported_at_once(self):
        credits = [
            BRIGHT,
            replace(ONEILL, sort_code="30-96", amount_minor=0),
            ZOE,
            replace(BRIGHT, account_number="123", account_name="", reference="pay_1"),
        ]

        with pytest.raises(BacsInvalid) as error:
            _file(credits=credits, processing_day=date(2026, 6, 6))

        assert _problems(error) == {
            ("invalid_sort_code", "/credits/1/sort_code"),
            ("invalid_amount", "/credits/1/amount_minor"),
            ("invalid_account_number", "/credits/3/account_number"),
            ("account_name_empty", "/credits/3/account_name"),
            ("invalid_reference", "/credits/3/reference"),
            ("not_a_working_day", "/processing_day"),
        }
        assert error.value.code == "bacs_invalid"
        assert "6 problems" in error.value.message
        assert [entry["pointer"] for entry in error.value.errors] == [
            problem.pointer for problem in error.value.problems
        ]

    def test_one_problem_gives_the_error_its_code_and_detail(self):
        with pytest.raises(BacsInvalid) as error:
            _file(credits=[replace(BRIGHT, sort_code="1")])

        assert error.value.code == "invalid_sort_code"
        assert (
            error.value.message == "Credit 1 (Bright Care Ltd): the sort code must be 6 digits; '1' is not."
        )
        assert error.value.errors == [
            {"code": "invalid_sort_code", "pointer": "/credits/0/sort_code", "detail": error.value.message}
        ]


class TestOriginatorAndFile:
    @pytest.mark.parametrize("service_user_number", ["12345", "1234567", "12345A", "", " 123456", None])
    def test_a_service_user_number_that_is_not_six_digits(self, service_user_number):
        problem = _only_problem(originator=replace(ORIGINATOR, service_user_number=service_user_number))

        assert (problem.code, problem.pointer) == (
            "invalid_service_user_number",
            "/originator/service_user_number",
        )

    def test_the_council_account_is_checked_like_a_provider_account(self):
        originator = replace(
            ORIGINATOR, sort_code="40-11", account_number="1", account_name="Anytown Borough Council"
        )

        with pytest.raises(BacsInvalid) as error:
            _file(originator=originator)

        assert _problems(error) == {
            ("invalid_sort_code", "/originator/sort_code"),
            ("invalid_account_number", "/originator/account_number"),
            ("account_name_too_long", "/originator/account_name"),
        }

    @pytest.mark.parametrize("file_number", [0, -1, 1_000_000, True, "42", None])
    def test_a_file_number_outside_1_to_999999(self, file_number):
        problem = _only_problem(file_number=file_number)

        assert (problem.code, problem.pointer) == ("invalid_file_number", "/file_number")


class TestProcessingDay:
    def test_a_saturday_is_refused_with_the_monday_suggested(self):
        problem = _only_problem(processing_day=date(2026, 6, 6))

        assert (problem.code, problem.pointer) == ("not_a_working_day", "/processing_day")
        assert problem.detail == (
            "The processing day must be a working day; Saturday 6 June 2026 is a weekend day. "
            "The next working day is Monday 8 June 2026."
        )

    def test_a_sunday_is_refused(self):
        problem = _only_problem(processing_day=date(2026, 6, 7))

        assert problem.code == "not_a_working_day"
        assert "Monday 8 June 2026" in problem.detail

    @pytest.mark.parametrize("processing_day", [date(2026, 12, 25), date(2026, 12, 28)])
    def test_christmas_and_the_boxing_day_substitute_are_refused(self, processing_day):
        # 2026: Christmas Day is a Friday, Boxing Day a Saturday, so Monday 28 December is its substitute.
        problem = _only_problem(processing_day=processing_day, created_on=date(2026, 12, 21))

        assert (problem.code, problem.pointer) == ("not_a_working_day", "/processing_day")
        assert "is a bank holiday in England and Wales" in problem.detail
        assert problem.detail.endswith("The next working day is Tuesday 29 December 2026.")

    def test_easter_monday_is_refused(self):
        problem = _only_problem(processing_day=date(2026, 4, 6), created_on=date(2026, 4, 1))

        assert problem.code == "not_a_working_day"
        assert "Tuesday 7 April 2026" in problem.detail

    def test_a_day_before_the_file_is_made_is_refused(self):
        problem = _only_problem(processing_day=date(2026, 6, 1), created_on=date(2026, 6, 3))

        assert (problem.code, problem.pointer) == ("processing_day_in_past", "/processing_day")
        assert problem.detail.endswith("The first processing day it could have is Wednesday 3 June 2026.")

    def test_the_day_the_file_is_made_is_allowed(self):
        records = _records(_file(processing_day=CREATED_ON, created_on=CREATED_ON))

        assert col(records[3], 5, 10) == " 26152"

    def test_a_past_weekend_day_suggests_the_first_working_day_from_the_file(self):
        with pytest.raises(BacsInvalid) as error:
            _file(processing_day=date(2026, 12, 26), created_on=date(2026, 12, 27))

        assert _problems(error) == {
            ("processing_day_in_past", "/processing_day"),
            ("not_a_working_day", "/processing_day"),
        }
        assert all("Tuesday 29 December 2026" in problem.detail for problem in error.value.problems)

    @pytest.mark.parametrize("field", ["processing_day", "created_on"])
    def test_a_datetime_or_text_is_not_a_date(self, field):
        for value in ("2026-06-03", None, datetime(2026, 6, 3, 9, 30)):
            problem = _only_problem(**{field: value})

            assert (problem.code, problem.pointer) == ("invalid_date", f"/{field}")


class TestWorkingDays:
    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (date(2026, 6, 3), date(2026, 6, 4)),  # Wednesday -> Thursday
            (date(2026, 6, 5), date(2026, 6, 8)),  # Friday -> Monday
            (date(2026, 6, 6), date(2026, 6, 8)),  # Saturday -> Monday
            (date(2026, 6, 7), date(2026, 6, 8)),  # Sunday -> Monday
            (date(2026, 12, 23), date(2026, 12, 24)),
            (
                date(2026, 12, 24),
                date(2026, 12, 29),
            ),  # over Christmas, Boxing Day, the weekend, the substitute
            (date(2026, 12, 25), date(2026, 12, 29)),
            (date(2026, 4, 2), date(2026, 4, 7)),  # over Good Friday, the weekend and Easter Monday
            (date(2026, 12, 31), date(2027, 1, 4)),  # New Year's Day 2027 is a Friday
        ],
    )
    def test_next_working_day(self, day, expected):
        assert next_working_day(day) == expected

    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (date(2026, 6, 3), date(2026, 6, 3)),  # a working day: itself
            (date(2026, 6, 6), date(2026, 6, 8)),
            (date(2026, 12, 25), date(2026, 12, 29)),
            (date(2026, 12, 29), date(2026, 12, 29)),
        ],
    )
    def test_working_day_on_or_after(self, day, expected):
        assert working_day_on_or_after(day) == expected


class TestFieldValues:
    @pytest.mark.parametrize(
        ("name", "cleaned"),
        [
            ("Bright Care Ltd", "BRIGHT CARE LTD"),
            ("O'Neill & Sons", "O NEILL & SONS"),
            ("Bright Care (North)", "BRIGHT CARE NORTH"),
            ("  smith,   jones  ", "SMITH JONES"),
            ("Zoë's Carers/Co-op", "ZOE S CARERS/CO-OP"),
            ("Crème Brûlée Café", "CREME BRULEE CAFE"),
            ("Straße Care", "STRASSE CARE"),
            ("A.B. Homecare", "A.B. HOMECARE"),
            ("care@home #1", "CARE HOME 1"),
            ("tab\tand\nnewline", "TAB AND NEWLINE"),
        ],
    )
    def test_clean_name(self, name, cleaned):
        assert clean_name(name) == cleaned

    @pytest.mark.parametrize(
        ("reference", "field"),
        [
            ("pay_0123456789abcd", "PAY-0123456789ABCD"),
            ("  inv-2026/001 ", "INV-2026/001"),
        ],
    )
    def test_bacs_reference(self, reference, field):
        assert bacs_reference(reference) == field
