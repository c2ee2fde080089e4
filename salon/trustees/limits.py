"""The trustees room's input limits, read by its pages' device messages, its API schemas and its services."""
from __future__ import annotations

# SPEC §5.1: the bureau and three secretaries drawn by lot; a drawn term serves half a year.
DRAWN_SECRETARIES = 3
DRAWN_TERM_MONTHS = 6
# A new drawn term may be announced this many days before the ready one ends (so it is ready in time).
ANNOUNCE_BEFORE_END_DAYS = 30
# k = n - 1 (one trustee may be missing) and k >= 2, so at least three trustees.
MIN_TRUSTEES = 3
# A transport public key: a compressed secp256k1 point, 33 bytes in lowercase hex.
TRANSPORT_KEY_HEX = 66
# An encrypted share: AES-GCM of the 32-byte share with a 12-byte IV and a 16-byte tag, in lowercase hex.
SHARE_CIPHERTEXT_HEX = 2 * (12 + 32 + 16)
# The most trustees a term has (the bureau and a committee's members), which bounds every list a device posts.
MAX_TRUSTEES = 16
# A retired key still decrypts the polls opened under it; the home page asks the ballot engine about it for this
# many days after it retired (a poll's window is days long), so its cost does not grow with the years.
DECRYPT_WINDOW_DAYS = 120
