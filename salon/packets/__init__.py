"""The session packet room (SPEC §7): a printable A4 page and the same content as a PDF with its CJK font
embedded, for the chair, the bureau and the programme's secretaries, and signed, expiring guest links.
`salon.packets.pdf` is the reusable PDF renderer other rooms use for their printed reports."""
