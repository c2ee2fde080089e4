"""The trustees room's input limits, read by its pages' device messages, its API schemas and its services. (The
rules' numbers — how many trustees, how long a term — are in salon/rules/trustees.py.)"""
from __future__ import annotations

# A transport public key: a compressed secp256k1 point, 33 bytes in lowercase hex.
TRANSPORT_KEY_HEX = 66
# An encrypted share: AES-GCM of the 32-byte share with a 12-byte IV and a 16-byte tag, in lowercase hex.
SHARE_CIPHERTEXT_HEX = 2 * (12 + 32 + 16)
# The most trustees a term has (the bureau and a committee's members), which bounds every list a device posts.
MAX_TRUSTEES = 16
