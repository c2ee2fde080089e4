"""Pure rules of SPEC.md: plain data in, plain data out; no Flask, no database, no clock."""
