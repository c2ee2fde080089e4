"""The session room: one page for a session's whole life (date and chair → nominations → vote → decision →
agenda and guests → packet → what it produced), composed of the panels the other rooms contribute."""
