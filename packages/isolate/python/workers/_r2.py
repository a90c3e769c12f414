"""``env.MY_BUCKET``: an R2 bucket, as Cloudflare's ``R2Bucket``."""

import json as _json

from ._bindings import call
from ._convert import camel, options

_VALUE_TYPES = (str, bytes, bytearray, memoryview, type(None))


class R2Object:
    """An object's metadata: ``key``, ``version``, ``size``, ``etag``, ``http_etag``/``httpEtag``,
    ``uploaded`` (an aware datetime), ``http_metadata``, ``custom_metadata``, ``checksums``."""

    __slots__ = ("_fields",)

    def __init__(self, fields):
        self._fields = fields

    def __getattr__(self, name):
        fields = self._fields
        if name in fields:
            return fields[name]
        alias = camel(name)
        if alias in fields:
            return fields[alias]
        raise AttributeError(f"R2 object has no field {name!r}")

    def __repr__(self):
        key, size = self._fields.get("key"), self._fields.get("size")
        return f"{type(self).__name__}(key={key!r}, size={size!r})"

    def write_http_metadata(self, headers):
        """Sets the object's HTTP metadata (content type, ...) on a dict of headers."""
        names = {
            "contentType": "content-type",
            "contentLanguage": "content-language",
            "contentDisposition": "content-disposition",
            "contentEncoding": "content-encoding",
            "cacheControl": "cache-control",
            "cacheExpiry": "expires",
        }
        for key, value in (self._fields.get("httpMetadata") or {}).items():
            if key in names and value is not None:
                headers[names[key]] = str(value)
        return headers

    writeHttpMetadata = write_http_metadata


class R2ObjectBody(R2Object):
    """An object with its body: ``await text()``, ``json()``, ``bytes()``/``array_buffer()``."""

    __slots__ = ("_used",)

    def __init__(self, fields):
        super().__init__(fields)
        self._used = False

    def _take(self):
        if self._used:
            raise OSError("Body already used")
        self._used = True
        return self._fields.get("body") or b""

    @property
    def body(self):
        """The body as a JS ``ReadableStream`` (what ``Response(obj.body)`` takes)."""
        from js import Response as JsResponse
        from pyodide.ffi import to_js

        return JsResponse.new(to_js(self._take())).body

    @property
    def body_used(self):
        return self._used

    bodyUsed = body_used

    async def bytes(self):
        return self._take()

    array_buffer = arrayBuffer = bytes

    async def text(self):
        return self._take().decode("utf-8")

    async def json(self):
        return _json.loads(self._take())


def _object(fields):
    if fields is None:
        return None
    return R2ObjectBody(fields) if "body" in fields else R2Object(fields)


class R2MultipartUpload:
    """A multipart upload: ``await upload_part(n, value)``, ``complete(parts)``, ``abort()``."""

    __slots__ = ("_binding", "key", "upload_id")

    def __init__(self, binding, key, upload_id):
        self._binding = binding
        self.key = key
        self.upload_id = upload_id

    @property
    def uploadId(self):  # noqa: N802 - Cloudflare's JS name
        return self.upload_id

    async def upload_part(self, part_number, value):
        """Uploads part ``part_number`` (from 1); returns ``{"partNumber", "etag"}``."""
        value = _value(self._binding, "uploadPart", value)
        return await call(self._binding, "uploadPart", self.key, self.upload_id, part_number, value)

    uploadPart = upload_part

    async def complete(self, parts):
        """Joins the uploaded parts (the dicts ``upload_part`` returned) into the object."""
        plain = [{"partNumber": p["partNumber"], "etag": p["etag"]} for p in parts]
        fields = await call(
            self._binding, "completeMultipartUpload", self.key, self.upload_id, plain
        )
        return _object(fields)

    async def abort(self):
        await call(self._binding, "abortMultipartUpload", self.key, self.upload_id)


def _value(binding, method, value):
    if not isinstance(value, _VALUE_TYPES):
        raise TypeError(
            f"{binding}.{method}(): the value must be str, bytes or None, "
            f"got {type(value).__name__}"
        )
    return bytes(value) if isinstance(value, (bytearray, memoryview)) else value


class R2Bucket:
    """An R2 bucket: ``head``, ``get``, ``put``, ``delete``, ``list``, multipart uploads."""

    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"R2Bucket({self._name!r})"

    async def head(self, key):
        return _object(await call(self._name, "head", key))

    async def get(self, key, given=None, **opts):
        """The object with its body, None when missing; ``range``, ``only_if``/``onlyIf``.

        A failed ``only_if`` gives the object without a body (an ``R2Object``)."""
        return _object(await call(self._name, "get", key, options(given, **opts)))

    async def put(self, key, value, given=None, **opts):
        """Stores ``value`` (str, bytes or None); ``http_metadata``, ``custom_metadata``,
        ``md5``, ``sha256``, ``only_if``. None when ``only_if`` failed."""
        value = _value(self._name, "put", value)
        return _object(await call(self._name, "put", key, value, options(given, **opts)))

    async def delete(self, keys):
        """Deletes a key or a list of keys."""
        await call(self._name, "delete", list(keys) if isinstance(keys, list | tuple) else keys)

    async def list(self, given=None, **opts):
        """``{"objects": [R2Object], "truncated", "cursor", "delimited_prefixes"}``; options
        ``prefix``, ``delimiter``, ``cursor``, ``limit``, ``start_after``, ``include``."""
        result = await call(self._name, "list", options(given, **opts))
        result["objects"] = [R2Object(o) for o in result.get("objects", [])]
        if "delimitedPrefixes" in result:
            result["delimited_prefixes"] = result["delimitedPrefixes"]
        return result

    async def create_multipart_upload(self, key, given=None, **opts):
        got = await call(self._name, "createMultipartUpload", key, options(given, **opts))
        return R2MultipartUpload(self._name, got["key"], got["uploadId"])

    createMultipartUpload = create_multipart_upload

    def resume_multipart_upload(self, key, upload_id):
        return R2MultipartUpload(self._name, key, upload_id)

    resumeMultipartUpload = resume_multipart_upload
