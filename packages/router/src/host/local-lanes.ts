// A host's side of lanes (./lanes.ts), in the host process: its isolates open one once warm,
// and it keeps them by lane number, the name the router knows them by.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsolateError, type Logger, lanePath } from '@pyworkers/isolate';
import type { IsolateHandle } from '../launcher.js';
import { LaneServer } from './lanes.js';

/**
 * The lane server of an in-process host (`LocalHostOptions.ownLanes`), unless lanes are off
 * (`PYWORKERS_LANES=0`) or TMPDIR is too long for a Unix socket path.
 */
export function ownLaneServer(
  id: number,
  logger: Logger,
  kill: (lane: number, message: string) => void,
  spread: ConstructorParameters<typeof LaneServer>[3],
): LaneServer | undefined {
  if (process.env.PYWORKERS_LANES === '0') return undefined;
  const path = join(tmpdir(), 'pyworkers-lanes-XXXXXX', `host-${id}.sock`);
  if (lanePath(path, 9_999_999).length > 107) return undefined;
  return new LaneServer(id, logger, kill, spread);
}

/** Requests an isolate answers through its host before it opens a lane. */
const LANE_AFTER = 2;

/** What lanes see of a host's isolate (LocalHost's own record). */
export interface LanedIsolate {
  handle?: IsolateHandle;
  /** Its lane's number, once it has one. */
  lane?: number;
  /** Requests its host ran on it to the end. */
  served: number;
  dropped: boolean;
}

/** The isolates of one host that have a lane, by lane number. */
export class HostLanes<I extends LanedIsolate> {
  private readonly byLane = new Map<number, I>();
  private nextLane = 1;

  constructor(
    /** Where the router takes lanes (LocalHostOptions.lanes); none: no isolate opens one. */
    private readonly at: { path: string; token: string } | undefined,
    /** Requests one isolate runs at once: what its lane may carry. */
    private readonly concurrency: number,
    /** Forgets an isolate that crashed or was killed (the host's `drop`). */
    private readonly drop: (iso: I, err: unknown) => void,
    /** Tells the router an isolate with a lane was lost (LocalHostOptions.laneLost). */
    private readonly lost: ((lane: number, err: unknown) => void) | undefined,
  ) {}

  /**
   * `iso` ran one more request to the end. Its lane opens once it answered a few: not while a
   * cold start's request waits, nor for an isolate that served one and is evicted again
   * (cold-start churn, where opening and closing a lane delays the next cold start of its worker).
   */
  answered(iso: I): void {
    iso.served++;
    if (iso.served >= LANE_AFTER && iso.handle && iso.lane === undefined && !iso.dropped)
      this.open(iso, iso.handle);
  }

  /** Lets the router send `iso` its plain requests itself, if it can take them. */
  private open(iso: I, handle: IsolateHandle): void {
    if (!this.at || !handle.openLane) return;
    iso.lane = this.nextLane++;
    this.byLane.set(iso.lane, iso);
    // A crash or limit during a request on the lane: no request of this host saw it.
    void handle.ended?.then((err) => this.drop(iso, err));
    handle.openLane(this.at.path, this.at.token, iso.lane, this.concurrency);
  }

  /** A request on lane `lane` ran past its timeout (the router saw it): the isolate goes. */
  kill(lane: number, message: string): void {
    const iso = this.byLane.get(lane);
    if (iso) this.drop(iso, new IsolateError('ERR_ISOLATE_TIMEOUT', message));
  }

  /** `iso` was lost (crashed, killed at a limit): the router fails its lane's requests with `err`. */
  lose(iso: I, err: unknown): void {
    if (iso.lane === undefined) return;
    this.byLane.delete(iso.lane);
    this.lost?.(iso.lane, err);
  }

  /** `iso` was evicted: its lane closes, answering what the router sent on it. */
  forget(iso: I): void {
    if (iso.lane !== undefined) this.byLane.delete(iso.lane);
  }

  /** Requests the router runs on lanes now. */
  load(): number {
    let sum = 0;
    for (const iso of this.byLane.values()) sum += iso.handle?.laneLoad ?? 0;
    return sum;
  }
}
