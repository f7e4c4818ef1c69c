import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { MessageSplitter } from '../../src/xds/wire/message-splitter.js';

// grpc-js's own decoder is the reference the splitter must agree with.
const require = createRequire(import.meta.url);
const { StreamDecoder } = require('@grpc/grpc-js/build/src/stream-decoder.js') as { StreamDecoder: new (max: number) => { write(data: Buffer): Buffer[] } };

function frame(body: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

function chunksOf(stream: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    out.push(stream.subarray(at, cut));
    at = cut;
  }
  return out;
}

describe('MessageSplitter', () => {
  const bodies = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(6_086, 'n'), Buffer.alloc(3), Buffer.alloc(70_000, 'm'), Buffer.alloc(0)];
  const stream = Buffer.concat(bodies.map(frame));

  it.each([
    { label: 'one chunk', cuts: [] },
    { label: 'every byte apart', cuts: Array.from({ length: 200 }, (_, i) => i + 1) },
    { label: 'cut inside a prefix', cuts: [2, 5, 8] },
    { label: 'HTTP/2 DATA frames of 16 KiB', cuts: Array.from({ length: Math.floor(stream.length / 16_384) }, (_, i) => (i + 1) * 16_384) },
  ])('returns what grpc-js decodes: $label', ({ cuts }) => {
    const chunks = chunksOf(
      stream,
      cuts.filter((c) => c < stream.length),
    );
    const mine = new MessageSplitter(-1);
    const theirs = new StreamDecoder(-1);
    const got = chunks.flatMap((c) => mine.write(c));
    const want = chunks.flatMap((c) => theirs.write(c));
    expect(got.map((b) => b.toString('hex'))).toEqual(want.map((b) => b.toString('hex')));
    expect(got).toHaveLength(bodies.length);
  });

  it('agrees with grpc-js over random cuts', () => {
    let seed = 11;
    const next = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    for (let round = 0; round < 200; round++) {
      const cuts = [...new Set(Array.from({ length: next(12) }, () => 1 + next(stream.length - 1)))].sort((a, b) => a - b);
      const chunks = chunksOf(stream, cuts);
      const mine = new MessageSplitter(-1);
      const theirs = new StreamDecoder(-1);
      const got = chunks.flatMap((c) => mine.write(c)).map((b) => b.toString('hex'));
      expect(got).toEqual(chunks.flatMap((c) => theirs.write(c)).map((b) => b.toString('hex')));
    }
  });

  it('slices a message that lies in one chunk instead of copying it, and keeps nothing afterwards', () => {
    const chunk = Buffer.concat([frame(Buffer.alloc(6_000, 'x')), frame(Buffer.from('y'))]);
    const splitter = new MessageSplitter(-1);
    const [first, second] = splitter.write(chunk);
    expect(first!.buffer).toBe(chunk.buffer);
    expect(second!.subarray(5).toString()).toBe('y');
    expect(Reflect.get(splitter, 'pending')).toEqual([]);
  });

  it('refuses a message over the limit, as grpc-js does', () => {
    expect(() => new MessageSplitter(100).write(frame(Buffer.alloc(101)))).toThrow(/larger than max \(101 vs 100\)/);
    // Announced in a prefix split across chunks.
    const splitter = new MessageSplitter(100);
    const big = frame(Buffer.alloc(101));
    expect(splitter.write(big.subarray(0, 3))).toEqual([]);
    expect(() => splitter.write(big.subarray(3))).toThrow(/larger than max/);
    expect(new MessageSplitter(100).write(frame(Buffer.alloc(100)))).toHaveLength(1);
  });
});

describe('MessageSplitter: how long a message has been half-read', () => {
  it('counts from the first byte of an unfinished message and stops when it completes', () => {
    const splitter = new MessageSplitter(-1);
    expect(splitter.gatheringForMs()).toBe(0);
    const message = Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]);
    splitter.write(message.subarray(0, 6));
    const started = performance.now();
    expect(splitter.gatheringForMs(started + 5_000)).toBeGreaterThanOrEqual(4_999);
    expect(splitter.write(message.subarray(6))).toHaveLength(1);
    expect(splitter.gatheringForMs(started + 5_000)).toBe(0);
  });
});
