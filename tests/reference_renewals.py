"""A plain-Python reference for renewals from a contracts file (docs/money.md, "Renewals").

funnel roi computes them in one query (funnelcli/contract_renewals.py); this is the same
definition as plain loops over the contracts, which tests/test_roi.py compares the query with
on random contract tables. The rates from the sums (renewal_numbers) are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from funnelcli.metrics.money import renewal_numbers
from funnelcli.outputs.roi import Renewals


@dataclass(frozen=True)
class Contract:
    account: str
    start: date
    end: date
    amount: Decimal


def grouped(
    contracts: Iterable[Contract], key: Callable[[Contract], str]
) -> dict[str, list[Contract]]:
    """Contracts per key(contract), in their order."""
    groups: dict[str, list[Contract]] = {}
    for contract in contracts:
        groups.setdefault(key(contract), []).append(contract)
    return groups


def by_account(contracts: Iterable[Contract]) -> dict[str, list[Contract]]:
    """Contracts per account: build once, pass to every `renewals` call over the same file."""
    return grouped(contracts, lambda c: c.account)


def renewals(
    contracts: Sequence[Contract] | Mapping[str, Sequence[Contract]],
    up: Iterable[Contract],
    grace: timedelta,
) -> Renewals:
    """Renewal numbers of the contracts `up` for renewal, looking for renewals in `contracts`
    (a list, or its `by_account` index).

    A contract is renewed when the same account has another contract starting after its start
    and no later than end + grace; the earliest such contract is its renewal.
    """
    index = contracts if isinstance(contracts, Mapping) else by_account(contracts)
    count = renewed = 0
    amount_up = retained = following = Decimal(0)
    for contract in up:
        count += 1
        amount_up += contract.amount
        nxt = next_contract(contract, index.get(contract.account, []), grace)
        if nxt is None:
            continue
        renewed += 1
        retained += min(nxt.amount, contract.amount)
        following += nxt.amount
    return renewal_numbers(count, renewed, amount_up, retained, following)


def next_contract(
    contract: Contract, same_account: Sequence[Contract], grace: timedelta
) -> Contract | None:
    later = [
        c
        for c in same_account
        if c is not contract and c.start > contract.start and c.start <= contract.end + grace
    ]
    return min(later, key=lambda c: (c.start, c.end, c.amount)) if later else None


def up_for_renewal(
    contracts: Iterable[Contract],
    since: datetime | None,
    until: datetime | None,
    as_of: date | None,
    grace: timedelta,
) -> list[Contract]:
    """Contracts ending in [since, until) whose renewal is decided: end + grace ≤ as_of."""
    chosen = []
    for contract in contracts:
        end = datetime.combine(contract.end, datetime.min.time())
        if since is not None and end < since:
            continue
        if until is not None and end >= until:
            continue
        if as_of is None or contract.end + grace > as_of:
            continue
        chosen.append(contract)
    return chosen
