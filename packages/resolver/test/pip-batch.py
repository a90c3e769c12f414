"""Runs several `pip install` invocations in one interpreter (pip's own CLI entry point), so the
differential test pays Python's and pip's start-up once per batch instead of once per case.

stdin: a JSON list of argument lists; stdout: a JSON list of exit codes, in order.
"""

import json
import sys

from pip._internal.cli.main import main

codes = [main(args) for args in json.load(sys.stdin)]
sys.stdout.write(json.dumps(codes) + "\n")
