"""The session packet room (SPEC §7): a printable A4 page and the same content as a PDF with its CJK font
embedded, for the chair, the bureau and the programme's secretaries, and signed, expiring guest links.
`salon.packets.pdf` is the reusable PDF renderer other rooms use for their printed reports."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire the room: packet pages and guest pages, the API, the chair's home-page task and the group's notice."""
    from salon.api import PREFIX
    from salon.extensions import api, csrf
    from salon.home import tasks
    from salon.packets import api as packets_api
    from salon.packets import views
    from salon.home import notices
    from salon.packets.tasks import STAGE, packet_ready_notice, packet_tasks

    app.register_blueprint(views.bp)
    csrf.exempt(packets_api.blp)
    api.register_blueprint(packets_api.blp, url_prefix=PREFIX)
    tasks.provider(packet_tasks)
    notices.register(STAGE, packet_ready_notice)
