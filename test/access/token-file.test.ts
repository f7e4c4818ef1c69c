import { mkdtempSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenFile, tokenOf } from '../../src/access/index.js';
import { createLogger } from '../../src/telemetry/index.js';

/** A logger whose lines the test can read. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; messages: () => string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  return { logger, messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg) };
}

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let dir: string;
let file: TokenFile | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'herald-token-'));
});
afterEach(() => {
  file?.close();
  file = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('tokenOf', () => {
  it.each([
    ['abc\n', 'abc'],
    ['  abc  \r\n', 'abc'],
    ['', undefined],
    ['\n\n', undefined],
  ])('%j → %s', (text, expected) => {
    expect(tokenOf(text)).toBe(expected);
  });
});

describe('TokenFile', () => {
  it('picks up a file rewritten in place, without waiting for the poll', async () => {
    const tokenPath = path.join(dir, 'token');
    writeFileSync(tokenPath, 'first\n');
    const log = capturingLogger();
    file = new TokenFile({ path: tokenPath, initial: 'first', logger: log.logger, pollMs: 3_600_000 });
    expect(file.current()).toBe('first');
    writeFileSync(tokenPath, 'second\n');
    await until(() => file!.current() === 'second', 'the rewritten token');
    expect(log.messages()).toContain('admin token reloaded');
  });

  it('follows a Kubernetes Secret volume update (the ..data symlink swapped)', async () => {
    // The kubelet's layout: token → ..data/token, ..data → a timestamped directory, replaced by rename.
    const first = path.join(dir, '..2026_01_01_00_00_00.1');
    mkdirSync(first);
    writeFileSync(path.join(first, 'token'), 'first');
    symlinkSync(path.basename(first), path.join(dir, '..data'));
    symlinkSync(path.join('..data', 'token'), path.join(dir, 'token'));
    file = new TokenFile({ path: path.join(dir, 'token'), initial: 'first', logger: capturingLogger().logger, pollMs: 3_600_000 });

    const second = path.join(dir, '..2026_01_01_00_01_00.2');
    mkdirSync(second);
    writeFileSync(path.join(second, 'token'), 'second');
    symlinkSync(path.basename(second), path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    rmSync(first, { recursive: true });
    await until(() => file!.current() === 'second', 'the token of the new Secret version');
  });

  it('keeps the last token while the file is missing, empty or unusable, logging each problem once', async () => {
    const tokenPath = path.join(dir, 'token');
    writeFileSync(tokenPath, 'first');
    const log = capturingLogger();
    file = new TokenFile({ path: tokenPath, initial: 'first', logger: log.logger, pollMs: 3_600_000 });
    rmSync(tokenPath);
    await file.reload();
    await file.reload();
    expect(file.current()).toBe('first');
    writeFileSync(tokenPath, '\n');
    await file.reload();
    expect(file.current()).toBe('first');
    const warnings = log.messages().filter((m) => m === 'admin token file unreadable; keeping the last token');
    // One line when the file went missing, one when the problem became "empty"; none per re-read.
    expect(warnings).toHaveLength(2);
    writeFileSync(tokenPath, 'not a token');
    await file.reload();
    expect(file.current()).toBe('first');
    expect(log.messages().filter((m) => m === 'admin token file unreadable; keeping the last token')).toHaveLength(3);
    writeFileSync(tokenPath, 'third');
    await file.reload();
    expect(file.current()).toBe('third');
  });

  it('polls when no change notification arrives', async () => {
    const inner = path.join(dir, 'inner');
    mkdirSync(inner);
    const tokenPath = path.join(inner, 'token');
    writeFileSync(tokenPath, 'first');
    file = new TokenFile({ path: tokenPath, initial: 'first', logger: capturingLogger().logger, pollMs: 50 });
    // Replacing the watched directory itself leaves the watch looking at the old one.
    const fresh = path.join(dir, 'fresh');
    mkdirSync(fresh);
    writeFileSync(path.join(fresh, 'token'), 'second');
    rmSync(inner, { recursive: true });
    renameSync(fresh, inner);
    await until(() => file!.current() === 'second', 'the token after the swap');
    // The watch still looks at the removed directory: only the poll sees this write.
    writeFileSync(tokenPath, 'third');
    await until(() => file!.current() === 'third', 'the polled token');
  });

  it('stops reading once closed', async () => {
    const tokenPath = path.join(dir, 'token');
    writeFileSync(tokenPath, 'first');
    file = new TokenFile({ path: tokenPath, initial: 'first', logger: capturingLogger().logger, pollMs: 20 });
    file.close();
    writeFileSync(tokenPath, 'second');
    await file.reload();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(file.current()).toBe('first');
  });
});
