"""Salon's own import-linter contract types (registered in .importlinter)."""
