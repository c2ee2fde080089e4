"""The session packet room (SPEC §7): a printable A4 page and the same content as a PDF with its CJK font
embedded (laid out with salon.pdf, the renderer every printed report uses), for the chair, the bureau and the
programme's secretaries, and signed, expiring guest links."""
