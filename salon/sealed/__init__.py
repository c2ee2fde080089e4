"""Sealed ballots (SPEC §5.1): exponential ElGamal on secp256k1, zero-knowledge proofs, threshold keys and the
bulletin board. Pure: no Flask, no database. The protocol is docs/sealed-ballots.md; read it first."""
