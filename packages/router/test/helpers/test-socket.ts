// A WebSocket client for the e2e tests: the messages as they arrive (text as string, binary
// as Buffer), and the close, for assertions.
import WebSocket from 'ws';

export interface TestSocket {
  ws: WebSocket;
  /** The next message (waits for it). */
  next(): Promise<string | Buffer>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens `url`; rejects with `status N` when the server does not upgrade. */
export function openSocket(url: string): Promise<TestSocket> {
  const ws = new WebSocket(url);
  const queue: (string | Buffer)[] = [];
  const waiting: ((m: string | Buffer) => void)[] = [];
  ws.on('message', (data: Buffer, binary: boolean) => {
    const m = binary ? data : data.toString();
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.on('open', () =>
      resolve({
        ws,
        closed,
        next: () =>
          queue.length > 0
            ? Promise.resolve(queue.shift()!)
            : new Promise((r) => {
                waiting.push(r);
              }),
      }),
    );
    ws.on('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.on('error', reject);
  });
}
