class WorkerEntrypoint:
    """Base class of a worker's ``Default`` entry point."""

    def __init__(self, ctx, env):
        self.ctx = ctx
        self.env = env
