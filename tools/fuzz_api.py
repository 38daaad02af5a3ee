"""The schema-driven fuzzer against the served API (SPEC §12; issue #19).

Migrates and seeds the database that DATABASE_URL names (the demo world:
shops, tickets, warnings, the demo detector's key), serves the project with
gunicorn on a free loopback port, and runs schemathesis with every check
(schemathesis.toml) against /api/v1/schema/. Any 5xx, any answer the schema
does not declare, fails the run. Only loopback is ever contacted: the server
runs with the tests' network guard, which also resolves no name by DNS.

    DATABASE_URL=postgres://… .venv/bin/python tools/fuzz_api.py [--max-examples N] [--seed S]
"""

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_KEY = "ck_demo_detector_key_for_local_use_only_2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None, help="a fixed seed repeats a run exactly")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a database the fuzzer may fill (it is migrated and seeded).")
    env = {**os.environ, "DJANGO_DEBUG": "true", "DEMO_API_KEY": DEMO_KEY,
           # The fuzzer makes thousands of calls a minute: the per-key limit is
           # tested on its own (tests/compliance/test_api.py), not here.
           "API_REQUESTS_PER_MINUTE": "1000000000"}
    manage = [str(BIN / "python"), "tests/guarded_manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*manage, "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    # gunicorn with the tests' network guard (tests/netguard.py): the fuzzer's webhook URLs
    # (SPEC §13) are checked by resolving their names, and no name may reach a DNS server.
    gunicorn = ("import sys; from tests import netguard; netguard.install(); "
                "from gunicorn.app.wsgiapp import run; sys.argv = ['gunicorn', *sys.argv[1:]]; run()")
    server = subprocess.Popen([str(BIN / "python"), "-c", gunicorn, "config.wsgi", "--bind", f"127.0.0.1:{port}",
                               "--workers", "2", "--timeout", "120", "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _attempt in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/v1/schema/", timeout=5).read()
                break
            except OSError:
                time.sleep(0.5)
        else:
            print("the server did not start", file=sys.stderr)
            return 1
        command = [str(BIN / "schemathesis"), "run", f"{base}/api/v1/schema/", "--checks", "all",
                   "-H", f"Authorization: Bearer {DEMO_KEY}", "--max-examples", str(args.max_examples), "--no-color"]
        if args.seed is not None:
            command += ["--seed", str(args.seed)]
        return subprocess.run(command, cwd=ROOT, env=env).returncode
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
