// Opens N keep-alive connections to a server, sends one request on each, reads the answer and
// then keeps every connection open and idle until told to stop (stdin closes or "stop\n").
// A separate process: N client sockets plus N server sockets would not fit one process's
// file-descriptor limit.
import { connect } from 'node:net';

const [host, portText, countText, path] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const sockets = [];
let answered = 0;
let failed = 0;
let closedEarly = 0;
const t0 = performance.now();

function report(event) {
  process.stdout.write(
    `${JSON.stringify({ event, answered, failed, closedEarly, open: sockets.length - closedEarly, ms: Math.round(performance.now() - t0) })}\n`,
  );
}

function open(i) {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let seen = '';
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      if (ok) answered++;
      else failed++;
      resolve();
    };
    s.on('connect', () => {
      s.write(`GET ${path}?c=${i} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`);
    });
    s.on('data', (d) => {
      seen += d;
      if (/^HTTP\/1\.1 \d{3}/.test(seen) && seen.includes('\r\n\r\n')) finish(true);
    });
    s.on('error', () => finish(false));
    s.on('close', () => {
      if (done) closedEarly++;
      finish(false);
    });
    sockets.push(s);
  });
}

// Opened in batches so that the listen backlog is not what the test measures.
for (let i = 0; i < count; i += 250) {
  await Promise.all(Array.from({ length: Math.min(250, count - i) }, (_, j) => open(i + j)));
}
report('ready');
const stop = () => {
  report('stopping');
  for (const s of sockets) s.destroy();
  process.exit(0);
};
process.stdin.on('data', (d) => {
  if (String(d).includes('stop')) stop();
  else report('status');
});
process.stdin.on('end', stop);
