"""Salon's own import-linter contract types (.importlinter at the repository root; `make lint-imports`)."""
