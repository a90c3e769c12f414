"""``env.DB``: a D1 database, as Cloudflare's ``D1Database``: ``prepare(sql).bind(...).all()``."""

from ._bindings import store

_PARAM_TYPES = (type(None), bool, int, float, str, bytes, bytearray, memoryview)


class D1PreparedStatement:
    """A statement with its parameters; ``bind`` returns a new one, as in JS."""

    __slots__ = ("_binding", "_sql", "_params")

    def __init__(self, binding, sql, params=()):
        self._binding = binding
        self._sql = sql
        self._params = list(params)

    def __repr__(self):
        return f"D1PreparedStatement({self._sql!r}, params={self._params!r})"

    def bind(self, *params):
        checked = []
        for i, value in enumerate(params):
            if not isinstance(value, _PARAM_TYPES):
                raise TypeError(
                    f"{self._binding}.prepare(...).bind(): parameter {i + 1} has type "
                    f"{type(value).__name__}; D1 takes None, bool, int, float, str or bytes"
                )
            checked.append(bytes(value) if isinstance(value, (bytearray, memoryview)) else value)
        return D1PreparedStatement(self._binding, self._sql, checked)

    def _statement(self):
        return {"sql": self._sql, "params": self._params}

    async def first(self, column=None):
        """The first row (a dict), the value of ``column`` in it, or None."""
        args = [self._sql, self._params] + ([column] if column is not None else [])
        return await store(self._binding, "first", *args)

    async def all(self):
        """``{"results": [rows], "success": True, "meta": {...}}`` (also as attributes)."""
        return await store(self._binding, "all", self._sql, self._params)

    async def run(self):
        """As ``all()``; for statements that write (``meta.changes``, ``meta.last_row_id``)."""
        return await store(self._binding, "run", self._sql, self._params)

    async def raw(self, column_names=False, **opts):
        """Rows as lists; with ``column_names=True`` (or ``columnNames=True``) the first row
        holds the column names."""
        names = bool(opts.pop("columnNames", column_names))
        if opts:
            raise TypeError(f"raw() got unexpected options: {', '.join(opts)}")
        return await store(self._binding, "raw", self._sql, self._params, {"columnNames": names})


class D1Database:
    """A D1 database: ``prepare``, ``batch`` (atomic), ``exec``."""

    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"D1Database({self._name!r})"

    def prepare(self, sql):
        if not isinstance(sql, str):
            raise TypeError(f"{self._name}.prepare(): sql must be a str, got {type(sql).__name__}")
        return D1PreparedStatement(self._name, sql)

    async def batch(self, statements):
        """Runs the statements in one transaction; one result per statement."""
        for s in statements:
            if not isinstance(s, D1PreparedStatement):
                raise TypeError(
                    f"{self._name}.batch(): expected statements from prepare(), "
                    f"got {type(s).__name__}"
                )
        return await store(self._name, "batch", [s._statement() for s in statements])

    async def exec(self, sql):
        """Runs one or more statements without parameters: ``{"count", "duration"}``."""
        return await store(self._name, "exec", sql)
