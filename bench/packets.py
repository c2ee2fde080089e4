"""Benchmark: building the PDF packet of a large session (a script, not a test). SPEC §7, issue 7.

Seeds a temporary SQLite database with a programme of 19 communities (each with its secretary), a held
session with 40 action items and 3 resolutions, and the next session with 30 nominations voted on by the 19
seats, its topic decided and 10 guests. Then it times building that session's packet — gathering its content
(the queries) and laying out the PDF — ROUNDS times, and prints the median, the spread, the first build
(which also loads the CJK font once per process) and the PDF's size, pages and fonts.

    .venv/bin/python bench/packets.py [--rounds 15] [--out /tmp/packet.pdf]

Target (issue 7): median under 0.3 s and under 1 MB on the project's 2-core machine."""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", default=None, help="write the PDF here to look at it")
    args = parser.parse_args()

    from flask import current_app
    from pypdf import PdfReader
    from sqlalchemy import update

    from salon import clock, create_app
    from salon.extensions import db
    from salon.packets import services
    from salon.packets.document import packet_pdf
    from salon.programmes import services as programmes
    from salon.schedule import services as schedule
    from salon.programmes.models import SeatHolding
    from salon.schedule.models import SessionStatus
    from tests.outcome_helpers import decided_session, record

    instance = tempfile.mkdtemp(prefix="salon-bench-packets-")
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.sqlite",
                      "SALON_PASSWORD_METHOD": "pbkdf2:sha256:1000", "SERVER_NAME": "salon.bench",
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        programme, bureau = programmes.create_programme("富平县社区治理主题沙龙 (基准)", "富平县民政局", "bureau",
                                                        "民政局 张科长", "bench-password-1")
        communities, secretaries = [], []
        for i in range(19):
            community = programmes.add_community(programme, bureau, f"第{i + 1:02d}号示例社区")
            user, _token = programmes.hand_over_seat(community, bureau, f"sec{i + 1:02d}",
                                                     f"第{i + 1:02d}号社区书记", "bench-password-1")
            communities.append(community)
            secretaries.append(user)
        db.session.execute(update(SeatHolding).values(started_at=datetime(2020, 1, 1)))
        db.session.commit()
        now = clock.utcnow()
        previous = decided_session(programme, bureau, communities[0], 1, now - timedelta(days=30),
                                   "如何激发四支队伍作用", communities[:3], secretaries)
        record(previous, bureau, [f"第{i}项决议：由患者本人书面承诺替代社区开具的证明，各社区不再开具无法核实的证明。"
                                  for i in range(1, 4)],
               [(f"第{i:02d}项待办：印发通知，住院报销不再要求社区证明，改由患者本人书面承诺",
                 ["县医保局", "某保险公司", "第03号示例社区"][i % 3], date(2026, 1, 1) + timedelta(days=9 * i),
                 ["open", "in_progress", "done", "dropped"][i % 4]) for i in range(40)])
        session = decided_session(programme, bureau, communities[1], 2, now + timedelta(days=5),
                                  "如何破解社区万能章", communities, secretaries,
                                  guests=[(f"嘉宾{i:02d}", f"外部单位{i:02d}") for i in range(10)],
                                  status=SessionStatus.PLANNED, extra_nominations=11)
        session_id = session.id
        with current_app.test_request_context():
            from sqlalchemy import func, select

            from salon.topics.models import Guest, Nomination
            from salon.outcomes.models import ActionItem
            counts = (db.session.scalar(select(func.count(Nomination.id)).where(Nomination.session_id == session_id)),
                      len(communities), db.session.scalar(select(func.count(ActionItem.id))),
                      db.session.scalar(select(func.count(Guest.id)).where(Guest.session_id == session_id)))

            def build() -> bytes:
                s = schedule.get_session(session_id, programme.id)
                return packet_pdf(services.packet(s, programme))

            started = time.perf_counter()
            body = build()
            first = time.perf_counter() - started
            times, cpu, content_times = [], [], []
            for _ in range(args.rounds):
                db.session.expire_all()
                started, started_cpu = time.perf_counter(), time.process_time()
                body = build()
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                db.session.expire_all()
                started = time.process_time()
                services.packet(schedule.get_session(session_id, programme.id), programme)
                content_times.append(time.process_time() - started)
    reader = PdfReader(io.BytesIO(body))
    fonts = sorted({str(f.get_object().get("/BaseFont")) for page in reader.pages
                    for f in (page["/Resources"].get_object().get("/Font") or {}).values()})
    if args.out:
        Path(args.out).write_bytes(body)
    median = statistics.median(times)
    print(f"session: {counts[0]} nominations, {counts[1]} communities, {counts[2]} action items (previous "
          f"session), {counts[3]} guests")
    print(f"PDF build (content + layout), {args.rounds} rounds: median {median:.3f} s, "
          f"min {min(times):.3f} s, max {max(times):.3f} s; first build (loads the font) {first:.3f} s")
    print(f"CPU time of a build: median {statistics.median(cpu):.3f} s, of which gathering the content "
          f"{statistics.median(content_times):.3f} s; load average while measuring: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"PDF: {len(body) / 1024:.0f} KiB, {len(reader.pages)} pages, fonts {fonts}")
    ok = median < 0.3 and len(body) < 1_000_000
    print(f"target (median < 0.3 s, size < 1 MB): {'met' if ok else 'NOT met'}")
    for leftover in Path(instance).iterdir():
        leftover.unlink()
    os.rmdir(instance)


if __name__ == "__main__":
    main()
