"""``manage.py`` with the network guard (tests/netguard.py) installed first:
the worker processes the tests start talk only to loopback too."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import netguard  # noqa: E402

netguard.install()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.management import execute_from_command_line  # noqa: E402

if __name__ == "__main__":
    execute_from_command_line(["manage.py", *sys.argv[1:]])
