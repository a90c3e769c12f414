"""Routes Python's ``logging`` to the host's logger, with the record's level."""

import logging
import sys

_LEVELS = ((logging.ERROR, "error"), (logging.WARNING, "warn"), (logging.INFO, "info"))


def _level_name(levelno):
    for threshold, name in _LEVELS:
        if levelno >= threshold:
            return name
    return "debug"


class HostHandler(logging.Handler):
    """Sends each record (with its traceback, if any) to the worker thread's host bridge."""

    def emit(self, record):
        try:
            line = self.format(record)
            # Looked up per record: a JS object must not be held across the snapshot.
            import js

            host = getattr(js, "pyworkersHost", None)
            if host is None:
                print(line, file=sys.stderr)
            else:
                host.log(_level_name(record.levelno), record.name, line)
        except Exception:
            self.handleError(record)


def install():
    """Attach the host handler to the root logger (INFO and up, like a new Cloudflare worker).

    ``logging.basicConfig()`` then does nothing since the root has a handler: change levels
    with ``logging.getLogger(name).setLevel(...)`` instead.
    """
    root = logging.getLogger()
    if not any(isinstance(h, HostHandler) for h in root.handlers):
        root.addHandler(HostHandler())
        root.setLevel(logging.INFO)
