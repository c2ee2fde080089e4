"""Pure rules of SPEC.md: plain functions and dataclasses, no Flask, no database."""
