"""The accounts room: people, their roles, invitations, log-in and API tokens."""
