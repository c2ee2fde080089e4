"""The audit room: an append-only, hash-chained log of administrative actions (SPEC §9)."""
