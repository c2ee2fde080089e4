"""The schedule room: monthly sessions and the rotating chair (轮值主席制, SPEC §2)."""
