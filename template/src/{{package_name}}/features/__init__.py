"""Feature computation: per-transaction features, customer aggregates, point-in-time assembly."""
