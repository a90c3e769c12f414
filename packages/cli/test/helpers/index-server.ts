import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A PEP 503 simple index on 127.0.0.1 serving the given wheels. */
export interface IndexServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

const normalize = (n: string): string => n.toLowerCase().replace(/[-_.]+/g, '-');

/** Serves `wheels` as a PEP 503 index at `<url>/simple/`. */
export async function startIndex(
  wheels: { project: string; filename: string; bytes: Uint8Array }[],
): Promise<IndexServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(path);
    if (path === '/simple/') {
      const names = [...new Set(wheels.map((w) => normalize(w.project)))];
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<!DOCTYPE html><html><body>${names.map((n) => `<a href="/simple/${n}/">${n}</a>`).join('\n')}</body></html>`,
      );
      return;
    }
    const project = /^\/simple\/([^/]+)\/?$/.exec(path);
    if (project) {
      const files = wheels.filter((w) => normalize(w.project) === normalize(project[1]!));
      if (files.length === 0) {
        res.writeHead(404).end('not found');
        return;
      }
      const links = files.map((w) => {
        const sha = createHash('sha256').update(w.bytes).digest('hex');
        return `<a href="/files/${w.filename}#sha256=${sha}">${w.filename}</a>`;
      });
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!DOCTYPE html><html><body>\n${links.join('<br>\n')}\n</body></html>`);
      return;
    }
    const file = wheels.find((w) => path === `/files/${w.filename}`);
    if (file) {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': file.bytes.length,
      });
      res.end(file.bytes);
      return;
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
