"""The trustees room (SPEC §5.1): who holds the key of sealed ballots, and the key ceremony each trustee runs on
their own device. A committee's term of trustees (the bureau and the sitting members) starts when a committee is
seated; a drawn term (the bureau and three secretaries drawn by the §4.1 lot from a seed published before the
draw) serves half a year. The room relays the devices' messages (dealings, encrypted shares, confirmations),
checks every public proof, publishes a ready key's record, offers the ballot engine the key a new poll uses, and
passes trustees' decryption factors of closed polls to the engine (docs/sealed-ballots.md, "Integration")."""
