/** The project templates of `pyworkers init`. */
export const TEMPLATES = ['hello', 'asgi', 'wsgi'] as const;
/** A template name. */
export type Template = (typeof TEMPLATES)[number];

const HELLO = `from workers import Response, WorkerEntrypoint

# The top level runs once, at build time; what it computes lives in the memory snapshot.
GREETING_SUFFIX = "from Python on pyworkers"


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(f"{self.env.GREETING} {GREETING_SUFFIX}!\\n")
`;

const ASGI_APP = `# A plain ASGI application. Swap in FastAPI or Starlette with \`pyworkers add fastapi\`.


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = f"{scope['method']} {scope['path']}: hello from ASGI\\n".encode()
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain; charset=utf-8")],
    })
    await send({"type": "http.response.body", "body": body})
`;

const ASGI_ENTRY = `import asgi
from workers import WorkerEntrypoint

from app import app


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request, self.env)
`;

const WSGI_APP = `# A plain WSGI application. Swap in Flask with \`pyworkers add flask\`.


def app(environ, start_response):
    body = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}: hello from WSGI\\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]
`;

const WSGI_ENTRY = `import wsgi
from workers import WorkerEntrypoint

from app import app


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await wsgi.fetch(app, request, self.env)
`;

/** pyproject.toml for a new project. */
export function pyprojectFor(name: string, pythonVersion: string): string {
  const [major, minor] = pythonVersion.split('.');
  return `[project]
name = "${name}"
version = "0.1.0"
description = "A Python worker"
requires-python = ">=${major}.${minor}"
dependencies = []

[tool.pyworkers]
main = "src/entry.py"
vars = { GREETING = "Hello" }
# routes = ["/api", "api.example.com"]

# [tool.pyworkers.limits]
# request_timeout_ms = 30000
# memory_mb = 256
`;
}

const GITIGNORE = `# pyworkers
.pyworkers/
python_modules/
__pycache__/
.venv/
`;

/** The files of a template, by path relative to the project directory. */
export function templateFiles(
  template: Template,
  name: string,
  pythonVersion: string,
): Record<string, string> {
  const files: Record<string, string> = {
    'pyproject.toml': pyprojectFor(name, pythonVersion),
    '.gitignore': GITIGNORE,
  };
  if (template === 'hello') files['src/entry.py'] = HELLO;
  if (template === 'asgi') {
    files['src/entry.py'] = ASGI_ENTRY;
    files['src/app.py'] = ASGI_APP;
  }
  if (template === 'wsgi') {
    files['src/entry.py'] = WSGI_ENTRY;
    files['src/app.py'] = WSGI_APP;
  }
  return files;
}
