"""What `funnel init` recognises by name: CRM stage-date columns (HubSpot, Salesforce, Pipedrive,
generic `*_at`/`*_date`, Chinese), their typical order, ids, accounts, values, dimensions, stage
columns and won/lost values. Names are compared normalised (spec/hints.normalize)."""

from __future__ import annotations

import re

from funnelcli.spec.hints import normalize

# Typical order of a B2B funnel: a rank per step (lower first) and the stage name init writes.
CREATED, LEAD, MQL, SQL, OPPORTUNITY, TRIAL, WON, RENEWED = range(8)
STEP_NAMES = {
    CREATED: "lead",
    LEAD: "lead",
    MQL: "qualified",
    SQL: "sql",
    OPPORTUNITY: "opportunity",
    TRIAL: "trial",
    WON: "paid",
    RENEWED: "renewed",
}

# Exact headers of known exports (normalised) → rank.
KNOWN_HEADERS = {
    # HubSpot contacts / companies
    "create date": CREATED,
    "became a lead date": LEAD,
    "became a marketing qualified lead date": MQL,
    "became a sales qualified lead date": SQL,
    "became an opportunity date": OPPORTUNITY,
    "became a customer date": WON,
    # Salesforce leads / opportunities
    "created date": CREATED,
    "converted date": SQL,
    "close date": WON,
    # Pipedrive deals
    "deal - add time": CREATED,
    "deal - won time": WON,
    # Chinese CRMs
    "创建时间": CREATED,
    "线索时间": LEAD,
    "商机时间": OPPORTUNITY,
    "试用时间": TRIAL,
    "赢单时间": WON,
    "签约日期": WON,
    "续约时间": RENEWED,
    "续费时间": RENEWED,
}
# Words inside a generic time column's name → rank (the first that matches, in this order).
KEYWORDS: tuple[tuple[str, int], ...] = (
    ("renew", RENEWED),
    ("续", RENEWED),
    ("trial", TRIAL),
    ("demo", TRIAL),
    ("试用", TRIAL),
    ("paid", WON),
    ("won", WON),
    ("win", WON),
    ("customer", WON),
    ("close", WON),
    ("signed", WON),
    ("purchase", WON),
    ("converted", WON),
    ("赢单", WON),
    ("签约", WON),
    ("成交", WON),
    ("opportunit", OPPORTUNITY),
    ("engage", OPPORTUNITY),
    ("商机", OPPORTUNITY),
    ("sql", SQL),
    ("mql", MQL),
    ("qualif", MQL),
    ("lead", LEAD),
    ("线索", LEAD),
    ("creat", CREATED),
    ("first_contact", CREATED),
    ("firstcontact", CREATED),
    ("add", CREATED),
    ("创建", CREATED),
)
# Time columns that are not funnel steps.
NOT_A_STAGE = ("lost", "churn", "cancel", "updat", "modif", "last", "birth", "输单", "丢单", "流失")
LOST_TIMES = ("lost", "输单", "丢单")

STAGE_COLUMNS = ("stage", "status", "stagename", "deal_stage", "pipeline_stage", "阶段", "状态")
ID_WORDS = ("id", "编号", "编码", "key")
ACCOUNT_WORDS = ("account", "company", "organization", "organisation", "org", "公司", "企业")
VALUE_WORDS = ("amount", "value", "price", "金额", "合同额", "deal_size", "arr", "mrr")
DIMENSION_WORDS = (
    "channel", "source", "origin", "medium", "campaign", "segment", "owner", "agent", "rep",
    "country", "region", "office", "industry", "type", "product", "tier", "plan", "manager",
    "渠道", "来源", "负责人", "销售", "行业", "地区", "城市",
)  # fmt: skip
BREAKDOWN_WORDS = ("channel", "source", "origin", "渠道", "来源")

# Open pipeline stage values in their usual order (Salesforce, HubSpot deals, Pipedrive, 中文).
SALES_STEPS = (
    "new", "lead", "线索", "prospect", "contact", "qualif", "mql", "sql", "discover", "needs",
    "engag", "商机", "demo", "trial", "试用", "proposal", "quote", "报价", "negotiat", "谈判",
    "contract", "commit",
)  # fmt: skip

WON_VALUES = ("closed won", "won", "win", "customer", "paid", "赢单", "成交", "签约")
LOST_VALUES = ("closed lost", "lost", "lose", "disqualified", "输单", "丢单", "流失")


def key(name: str) -> str:
    return normalize(name)


def _words(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip().lower())


def time_rank(name: str) -> int | None:
    """The typical funnel position of a time column's name; None when unknown."""
    known = KNOWN_HEADERS.get(name.strip().lower())
    if known is not None:
        return known
    words = _words(name)
    return next((rank for word, rank in KEYWORDS if word in words), None)


def stage_name(column: str, rank: int | None) -> str:
    """A stage name for a time column: the step's name, else the column without its suffix."""
    if rank is not None:
        return STEP_NAMES[rank]
    words = re.sub(r"[^0-9a-z]+", "_", column.lower()).strip("_")
    words = re.sub(r"_(at|date|time|ts|on)$", "", words)
    return words or "stage"


def is_time_name(name: str) -> bool:
    words = _words(name)
    return bool(re.search(r"(_at|_date|_time|_on|date|time)$", words)) or words.endswith(
        ("时间", "日期")
    )


def not_a_stage(name: str) -> bool:
    words = _words(name)
    return any(word in words for word in NOT_A_STAGE)


def is_lost_time(name: str) -> bool:
    words = _words(name)
    return any(word in words for word in LOST_TIMES)


def is_stage_column(name: str) -> bool:
    words = _words(name).replace(" ", "_")
    return words in STAGE_COLUMNS or words.endswith("_stage") or words.endswith("阶段")


def looks_like_id(name: str) -> bool:
    words = _words(name)
    return words in ID_WORDS or words.endswith(("_id", " id", "id", "编号", "编码"))


def looks_like_account(name: str) -> bool:
    words = _words(name)
    return any(word in words for word in ACCOUNT_WORDS)


def looks_like_value(name: str) -> bool:
    words = _words(name)
    return any(word in words for word in VALUE_WORDS) and "declared" not in words


def dimension_score(name: str) -> int:
    """How much a column's name suggests a dimension (0: not at all)."""
    words = _words(name)
    return sum(1 for word in DIMENSION_WORDS if word in words)


def is_breakdown(name: str) -> bool:
    words = _words(name)
    return any(word in words for word in BREAKDOWN_WORDS)


def outcome(value: str) -> str | None:
    """ "won" or "lost" for a stage value that says so, else None."""
    text = value.strip().lower()
    if text in LOST_VALUES or any(text.endswith(v) for v in ("lost", "输单", "丢单")):
        return "lost"
    if text in WON_VALUES or text.endswith(" won"):
        return "won"
    return None


def step_rank(value: str) -> int:
    """The usual position of an open stage value (len(SALES_STEPS) when unknown)."""
    text = value.strip().lower()
    return next((i for i, word in enumerate(SALES_STEPS) if word in text), len(SALES_STEPS))
