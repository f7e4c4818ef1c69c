import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/telemetry/index.js';

function capture(): { stream: Writable & { write(chunk: string): boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream: stream as Writable & { write(chunk: string): boolean }, text: () => chunks.join('') };
}

describe('createLogger', () => {
  it('writes one JSON object per event for log collectors', () => {
    const out = capture();
    createLogger({ destination: out.stream }).info({ cluster: 'east' }, 'cluster east: synced');
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, service: 'herald', cluster: 'east', msg: 'cluster east: synced' });
  });

  it('writes a readable line for a person at a terminal', () => {
    const out = capture();
    createLogger({ destination: out.stream, pretty: true }).warn({ cluster: 'east' }, 'cluster east: unreachable');
    const text = out.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: cluster east: unreachable\n {4}cluster: "east"\n$/);
  });
});
