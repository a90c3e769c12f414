import platform
import sys

from workers import Response, WorkerEntrypoint

# Runs once at build time; the result lives in the memory snapshot.
BANNER = f"Python {sys.version.split()[0]} on {platform.system()} ({sys.platform})"


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(f"{self.env.GREETING} from pyworkers! {BANNER}\n")
