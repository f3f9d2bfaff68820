/**
 * Draining: an operator's "stop taking new requests". While it is on, every new POST under /v1
 * gets a 503 that the gateway fails over (nothing was sent upstream); requests already admitted
 * run to their end. The flag lives in this process and goes to the registry with each heartbeat.
 */
import type { NextFunction, Request, Response } from 'express';
import { ServiceUnavailableError } from '../errors.ts';

/** The worker's drain flag. */
export interface DrainSwitch {
  readonly draining: boolean;
  /** Turns draining on or off; returns the new value. */
  set(draining: boolean): boolean;
}

/** A switch that starts off. */
export function createDrainSwitch(): DrainSwitch {
  let draining = false;
  return {
    get draining() {
      return draining;
    },
    set(value) {
      draining = value;
      return draining;
    },
  };
}

/** Refuses new work while draining: 503 `node_draining`, which the gateway moves elsewhere. */
export function refuseWhileDraining(drain: DrainSwitch) {
  return function drainGate(req: Request, _res: Response, next: NextFunction): void {
    if (drain.draining && req.method === 'POST') {
      next(
        new ServiceUnavailableError(
          'This worker is draining: it finishes the requests it has and takes no new one.',
          5,
          { code: 'node_draining' },
        ),
      );
      return;
    }
    next();
  };
}
