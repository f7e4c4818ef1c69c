import { expect } from 'vitest';
import type { ClientInfo } from '../../src/xds/index.js';

/** Every type of every stream listed answered without a NACK (one failure names the type). */
export function expectNoNacks(streams: readonly ClientInfo[]): void {
  for (const s of streams) {
    for (const [kind, info] of Object.entries(s.types)) expect({ kind, nacks: info.counts.nacks }).toEqual({ kind, nacks: 0 });
  }
}
