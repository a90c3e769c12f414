// A client in a process of its own (so that its memory is not the router's) that POSTs a
// chunked body made of one reused 64 KiB buffer, and prints the answer.
import { execFile } from 'node:child_process';

const CLIENT = `
const { request } = require('node:http');
const [port, path, total] = process.argv.slice(1).map((v, i) => (i === 1 ? v : Number(v)));
const chunk = Buffer.alloc(64 * 1024, 7);
const req = request({ host: '127.0.0.1', port, path, method: 'POST' }, (res) => {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d) => { text += d; });
  res.on('end', () => { process.stdout.write(text || 'status ' + res.statusCode); });
});
req.on('error', (e) => { process.stderr.write(String(e)); process.exit(1); });
let sent = 0;
const pump = () => {
  while (sent < total) {
    sent += chunk.length;
    if (!req.write(chunk)) { req.once('drain', pump); return; }
  }
  req.end();
};
pump();
`;

/** POSTs `total` bytes as a chunked stream of one reused 64 KiB buffer, from another process. */
export function upload(port: number, path: string, total: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', CLIENT, String(port), path, String(total)], (err, out) =>
      err ? reject(err) : resolve(out),
    );
  });
}
