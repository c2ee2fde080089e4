"""The topics room (SPEC §3): nominations for a session, the secret approval vote over them, the decision,
the agenda and the guests."""
