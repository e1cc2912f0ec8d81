"""app.py's start, in a fresh process (as ``streamlit run app.py`` loads it): the pages'
modules are imported beside Streamlit's boot with Python's garbage collector paused, and
the collector is on again once they are in, with what they made left out of later
collections."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

START_APP = """
import gc, sys, threading
import app
importing = next(t for t in threading.enumerate() if t.name == "import-page-modules")
paused_while_importing = not gc.isenabled()
importing.join()
print(paused_while_importing, gc.isenabled(), gc.get_freeze_count() > 0,
      all(name in sys.modules for name in app.PAGE_MODULES))
"""


def test_the_collector_pauses_for_the_pages_imports_and_is_on_again_after_them():
    done = subprocess.run([sys.executable, "-c", START_APP], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    assert done.stdout.split() == ["True", "True", "True", "True"], done.stderr
