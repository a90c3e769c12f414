import { describe, expect, it } from 'vitest';
import type { HostWorker } from '../host/types.js';
import { MAX_ATTACHMENT_BYTES, ObjectSockets, type SocketEvent } from './object-sockets.js';

const ID = 'ab'.repeat(32);
const SID = 'c'.repeat(32);
const worker = { name: 'chat', bundle: async () => ({}) } as unknown as HostWorker;
const owner = {
  key: `chat\u0000Room\u0000${ID}`,
  worker,
  className: 'Room',
  id: ID,
  name: 'lobby',
};
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function setup() {
  const events: SocketEvent[] = [];
  const sockets = new ObjectSockets(async (_owner, event) => {
    events.push(event);
  }, quiet);
  sockets.call(owner, 'wsAccept', [SID, ['user:ann', 'room']]);
  return { sockets, events };
}

/** The router's side of an attached socket: what it got, and how it closed. */
function attach(sockets: ObjectSockets, ref = `${ID}:${SID}`) {
  const end = sockets.attach(ref);
  const got: (string | Uint8Array)[] = [];
  let closed: [number, string] | undefined;
  end.onmessage = (data) => got.push(data);
  end.onclose = (code, reason) => {
    closed = [code, reason];
  };
  return { end, got, closed: () => closed };
}

describe('the Durable Object sockets a host holds', () => {
  it('sends what the object sent before the client came first, then relays both ways', () => {
    const { sockets, events } = setup();
    sockets.call(owner, 'wsSend', [SID, 'welcome']);
    sockets.call(owner, 'wsAttachment', [SID, { name: 'ann' }]);
    const client = attach(sockets);
    expect(client.got).toEqual(['welcome']);
    client.end.send('hi');
    client.end.send(new Uint8Array([1]));
    expect(events.map((e) => [e.kind, e.data, e.tags, e.attachment])).toEqual([
      ['message', 'hi', ['user:ann', 'room'], { name: 'ann' }],
      ['message', new Uint8Array([1]), ['user:ann', 'room'], { name: 'ann' }],
    ]);
    expect(sockets.call(owner, 'wsList', [])).toEqual({
      sockets: [{ id: SID, tags: ['user:ann', 'room'], attachment: { name: 'ann' } }],
      auto: null,
    });
  });

  it('answers the auto-response itself, without an event, and remembers when', () => {
    const { sockets, events } = setup();
    sockets.call(owner, 'wsAutoResponse', ['ping', 'pong']);
    const client = attach(sockets);
    expect(sockets.call(owner, 'wsAutoResponseTime', [SID])).toBeNull();
    client.end.send('ping');
    expect(client.got).toEqual(['pong']);
    expect(events).toEqual([]);
    expect(sockets.call(owner, 'wsAutoResponseTime', [SID])).toBeTypeOf('number');
    client.end.send('ping!');
    expect(events.map((e) => e.data)).toEqual(['ping!']);
  });

  it('tells the object a client close once, and lists the socket no more', () => {
    const { sockets, events } = setup();
    const client = attach(sockets);
    client.end.close(4001, 'done');
    client.end.close(4001, 'done');
    expect(events).toMatchObject([{ kind: 'close', code: 4001, reason: 'done', wasClean: true }]);
    expect(sockets.count(owner.key)).toBe(0);
    expect(() => sockets.call(owner, 'wsSend', [SID, 'late'])).toThrow(/not one of this object/);
  });

  it('turns a broken connection with an error into an error event, then the close (1006)', () => {
    const { sockets, events } = setup();
    attach(sockets).end.close(1006, 'Max payload size exceeded');
    expect(events.map((e) => [e.kind, e.message ?? e.code])).toEqual([
      ['error', 'Max payload size exceeded'],
      ['close', 1006],
    ]);
  });

  it('closes the client with the code the object closed with, also before it came', () => {
    const { sockets } = setup();
    const client = attach(sockets);
    sockets.call(owner, 'wsClose', [SID, 4000, 'bye']);
    expect(client.closed()).toEqual([4000, 'bye']);

    const early = setup();
    early.sockets.call(owner, 'wsClose', [SID, 4002, 'full']);
    expect(attach(early.sockets).closed()).toEqual([4002, 'full']);
  });

  it('attaches a socket once, to the ref of its own object only', () => {
    const { sockets } = setup();
    expect(() => sockets.attach(`${'00'.repeat(32)}:${SID}`)).toThrow(/not held here/);
    attach(sockets);
    expect(() => sockets.attach(`${ID}:${SID}`)).toThrow(/not held here/);
    const other = { ...owner, key: 'chat\u0000Room\u0000other', id: 'ef'.repeat(32) };
    expect(() => sockets.call(other, 'wsSend', [SID, 'x'])).toThrow(/not one of this object/);
  });

  it('keeps no attachment over the limit, and nothing of an object without sockets', () => {
    const { sockets } = setup();
    sockets.call(owner, 'wsAttachment', [SID, { ok: 1 }]);
    sockets.call(owner, 'wsAttachment', [SID, 'x'.repeat(MAX_ATTACHMENT_BYTES + 1)]);
    expect(
      (sockets.call(owner, 'wsList', []) as { sockets: { attachment: unknown }[] }).sockets[0]!
        .attachment,
    ).toEqual({ ok: 1 });
    sockets.call(owner, 'wsAutoResponse', ['ping', 'pong']);
    attach(sockets).end.close(1000, '');
    sockets.forget(owner.key);
    expect(sockets.call(owner, 'wsList', [])).toEqual({ sockets: [], auto: null });
  });
});
