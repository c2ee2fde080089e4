"""Every audit action the code records has a translatable label for the audit page."""
import re
from pathlib import Path

from salon.audit.labels import ACTIONS

ROOT = Path(__file__).resolve().parents[2] / "salon"


def test_every_recorded_action_has_a_label():
    recorded = set()
    for path in ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"audit\.record(?:_refused)?\((.*?)\)", text, re.S):
            recorded.update(re.findall(r'"([a-z_]+\.[a-z_]+)"', call.group(1)))
    assert recorded, "no audit.record calls found: the scan is broken"
    missing = sorted(recorded - set(ACTIONS))
    assert not missing, f"audit actions without a label in salon/audit/labels.py: {missing}"
