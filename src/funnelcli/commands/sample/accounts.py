"""Accounts (companies) for the leads: each lead joins an open account or opens a new one.

An account has 1–6 contacts that share its company, segment, country and owner. Accounts still
expecting contacts stay open; joining one is likelier the more there are, so the open pool stays
near its target size and the leads of one account arrive within a few weeks of each other.
"""

from __future__ import annotations

import random
from bisect import bisect

from funnelcli.commands.sample.vocabulary import (
    ACCOUNT_SIZE_WEIGHTS,
    COMPANY_SUFFIXES,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    NAME_HEADS,
    NAME_KINDS,
    NAME_TAILS,
    OWNERS_CN,
    OWNERS_OTHER,
    SEGMENT_WEIGHTS,
    SEGMENTS,
    cumulative,
)

# An account: (account_id, company, segment index into SEGMENTS, segment, owner, country). A
# plain tuple: one is unpacked for every lead.
Account = tuple[str, str, int, str, str, str]


class AccountPool:
    """Hands each new lead its account, drawing from the shared random stream."""

    def __init__(self, rng: random.Random, *, leads: int, days: int) -> None:
        self._rand = rng.random
        self._id_width = max(5, len(str(leads)))
        self._opened = 0
        self._open_target = max(10.0, 10.0 * leads / days)
        # Open accounts and, at the same index, how many more contacts each expects.
        self._open: list[Account] = []
        self._contacts_left: list[int] = []
        self._segment_shares = cumulative(SEGMENT_WEIGHTS)
        self._size_shares = [cumulative(weights) for weights in ACCOUNT_SIZE_WEIGHTS]
        self._country_shares = cumulative(COUNTRY_WEIGHTS)

    def account_for_next_lead(self) -> Account:
        """An open account (one contact fewer to come), or else a new one."""
        rand = self._rand
        open_accounts, left = self._open, self._contacts_left
        n_open = len(open_accounts)
        if n_open and rand() * (n_open + self._open_target) < n_open:
            i = int(rand() * n_open)
            account = open_accounts[i]
            left[i] -= 1
            if left[i] <= 0:
                open_accounts[i] = open_accounts[-1]
                open_accounts.pop()
                left[i] = left[-1]
                left.pop()
            return account
        return self._open_account()

    def _open_account(self) -> Account:
        rand = self._rand
        self._opened += 1
        segment = bisect(self._segment_shares, rand())
        country = COUNTRIES[bisect(self._country_shares, rand())]
        owners = OWNERS_CN if country == "CN" else OWNERS_OTHER
        owner = owners[int(rand() * len(owners))]
        company = self._company_name(country)
        size = bisect(self._size_shares[segment], rand()) + 1
        account = ("A" + str(self._opened).zfill(self._id_width), company, segment,
                   SEGMENTS[segment], owner, country)  # fmt: skip
        if size > 1:
            self._open.append(account)
            self._contacts_left.append(size - 1)
        return account

    def _company_name(self, country: str) -> str:
        """``<head><tail>[ <kind>] <legal suffix>``, e.g. ``Novatek Labs GmbH``."""
        rand = self._rand
        kind = NAME_KINDS[int(rand() * len(NAME_KINDS))]  # drawn first
        suffixes = COMPANY_SUFFIXES[country]
        return (
            NAME_HEADS[int(rand() * len(NAME_HEADS))]
            + NAME_TAILS[int(rand() * len(NAME_TAILS))]
            + (" " + kind if kind else "")
            + " "
            + suffixes[int(rand() * len(suffixes))]
        )
