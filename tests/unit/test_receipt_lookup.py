"""A receipt is found however the voter types it (issue 15): spaces, no hyphens, any case, full width — a sealed
ballot's fingerprint, or a code of a poll closed before sealed ballots (still published)."""
import re

import pytest

from salon.ballots.services import normalise_receipt


@pytest.mark.parametrize("typed", ["ABCD-EFGH-JKMN", "abcd-efgh-jkmn", "ABCD EFGH JKMN", "abcdefghjkmn",
                                   " abcd - efgh - jkmn ", "ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ", "AbCd\tEfGh\nJkMn"])
def test_a_receipt_typed_any_way_is_the_published_code(typed):
    assert normalise_receipt(typed) == "ABCD-EFGH-JKMN"


@pytest.mark.parametrize("typed", ["ABCD-EFGH-JKM", "ABCD-EFGH-JKMNP", "ABCD-EFGH-JKM1", "", None, 12])
def test_what_cannot_be_a_code_matches_nothing(typed):
    found = normalise_receipt(typed)
    assert found.count("-") == 0 and len(found) != 14


FINGERPRINT = "0f" * 32


@pytest.mark.parametrize("typed", [FINGERPRINT, FINGERPRINT.upper(), f"  {FINGERPRINT}\n",
                                   FINGERPRINT[:32] + " " + FINGERPRINT[32:], "".join(chr(ord(c) + 0xFEE0) for c in FINGERPRINT)])
def test_a_sealed_ballots_fingerprint_pasted_any_way_is_the_published_one(typed):
    """A sealed poll's receipt is its 64-hex fingerprint, published in lowercase (SPEC §5.1)."""
    assert normalise_receipt(typed) == FINGERPRINT


@pytest.mark.parametrize("typed", [FINGERPRINT[:-1], FINGERPRINT + "0", FINGERPRINT[:-1] + "g"])
def test_what_cannot_be_a_fingerprint_matches_nothing(typed):
    found = normalise_receipt(typed)
    assert found != FINGERPRINT and not re.fullmatch(r"[0-9a-f]{64}", found)
