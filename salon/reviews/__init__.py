"""The half-year review room (SPEC §4): attendance, the secret review ballot, the re-election rule."""
