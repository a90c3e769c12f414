// A ChildHost's side of lanes (./lanes.ts): whether its host process gets a lane server, and
// which requests may go on a lane rather than through the host.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type IsolateRequest,
  type IsolateStreamingResponse,
  type Logger,
  lanePath,
} from '@pyworkers/isolate';
import { LaneServer } from './lanes.js';
import type { HostProcessConfig } from './protocol.js';

/** The lane server of a host process, unless it runs sandboxed or lanes are off. */
export function lanesFor(
  config: HostProcessConfig,
  logger: Logger,
  kill: (lane: number, message: string) => void,
): LaneServer | undefined {
  if (config.sandbox || process.env.PYWORKERS_LANES === '0') return undefined;
  // A Unix socket path has room for ~107 bytes: a long TMPDIR means no lanes (a thread listens
  // at lanePath, next to the router's socket).
  const path = join(tmpdir(), 'pyworkers-lanes-XXXXXX', `host-${config.id}.sock`);
  if (lanePath(path, 9_999_999).length > 107) return undefined;
  const spread = { at: config.spreadAt ?? Infinity, to: config.spreadTo ?? 1 };
  return new LaneServer(config.id, logger, kill, spread);
}

/**
 * `request` sent on a lane of `worker`, if it is a plain one (a whole body, no WebSocket
 * upgrade) and the worker has a lane with room; undefined: it goes through the host.
 */
export function onLane(
  lanes: LaneServer | undefined,
  worker: string,
  request: IsolateRequest,
): Promise<IsolateStreamingResponse> | undefined {
  return lanes && request.body instanceof Uint8Array && !isUpgrade(request.headers)
    ? lanes.fetch(worker, request)
    : undefined;
}

/** Whether a request asks for a WebSocket (those go through the host, which relays sessions). */
function isUpgrade(headers: [string, string][]): boolean {
  for (const [name, value] of headers)
    if (name.toLowerCase() === 'upgrade' && value.toLowerCase() === 'websocket') return true;
  return false;
}
