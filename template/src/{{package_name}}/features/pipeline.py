"""The `features` step: contract check, feature computation, idempotent upserts."""

from __future__ import annotations

from typing import Any

from ..data import schema as s
from ..data.contract import reject_rate, split_by_contract
from ..errors import DataContractError
from ..runtime import Context
from .customers import customer_features
from .transactions import transaction_features


def build_features(ctx: Context) -> dict[str, Any]:
    cfg, names = ctx.config, ctx.config.tables
    raw = ctx.tables.read(names.raw_transactions)
    # No cache()/persist(): serverless rejects them; recomputing the contract split is cheap.
    valid, rejected = split_by_contract(raw, cfg.contract)
    total, n_rejected = raw.count(), rejected.count()
    if n_rejected:
        # Quarantine first, so the rows are there to inspect even when the run fails below.
        ctx.tables.upsert(rejected, names.quarantine, keys=[s.ROW_HASH])
    rate = reject_rate(total, n_rejected)
    if rate > cfg.contract.max_reject_rate:
        raise DataContractError(
            f"{n_rejected} of {total} raw transactions ({rate:.1%}) break the data contract, "
            f"above contract.max_reject_rate={cfg.contract.max_reject_rate:.1%}. Inspect "
            f"'{ctx.tables.full_name(names.quarantine)}' (column {s.REJECT_REASON}); fix the "
            "feed, or raise the limit in conf/project.yml if these rows are expected."
        )

    customers = ctx.tables.read(names.raw_customers)
    per_transaction = transaction_features(valid, customers, cfg.features.night_hours)
    per_customer = customer_features(per_transaction, cfg.features.windows_days)
    ctx.tables.upsert(
        per_transaction, names.transaction_features, keys=[s.TRANSACTION_ID, s.EVENT_TS]
    )
    ctx.tables.upsert(per_customer, names.customer_features, keys=[s.CUSTOMER_ID, s.FEATURE_TS])
    return {
        "raw rows": total,
        "quarantined": n_rejected,
        "reject rate": f"{rate:.2%}",
        "transaction features": ctx.tables.read(names.transaction_features).count(),
        "customer feature rows": ctx.tables.read(names.customer_features).count(),
    }
