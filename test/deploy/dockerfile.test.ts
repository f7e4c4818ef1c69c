import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { execForm, parseDockerfile } from './dockerfile.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dockerfile = parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
const runtime = dockerfile.stages.at(-1)!;
const runtimeOf = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword);

describe('parseDockerfile', () => {
  it('joins continuations, substitutes global ARGs and splits stages', () => {
    const parsed = parseDockerfile('ARG IMG=node:24-slim\n# c\nFROM ${IMG} AS a\nRUN one \\\n  # skipped\n  two\nFROM a\nUSER 1000\n');
    expect(parsed.stages.map((s) => [s.image, s.name])).toEqual([
      ['node:24-slim', 'a'],
      ['a', undefined],
    ]);
    expect(parsed.stages[0]!.instructions).toEqual([{ keyword: 'RUN', args: 'one  two', line: 4 }]);
    expect(execForm('["node", "x"]')).toEqual(['node', 'x']);
    expect(execForm('node x')).toBeUndefined();
  });
});

describe('Dockerfile', () => {
  it('is multi-stage, every stage on a current Node LTS image', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) {
      const major = /^node:(\d+)/.exec(stage.image)?.[1];
      expect([stage.image, ['22', '24'].includes(major ?? '')]).toEqual([stage.image, true]);
    }
  });

  it('builds in an earlier stage and ships only its dist/', () => {
    const build = dockerfile.stages[0]!;
    expect(build.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args))).toBe(true);
    expect(build.instructions.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args))).toBe(true);
    const copies = runtimeOf('COPY').map((i) => i.args);
    expect(copies).toContain(`--from=${build.name} /src/dist ./dist`);
    expect(copies.some((args) => /^protos\s/.test(args))).toBe(true);
  });

  it('installs production dependencies only in the runtime stage', () => {
    const installs = runtimeOf('RUN').filter((i) => /\bnpm (ci|install|i)\b/.test(i.args));
    expect(installs).toHaveLength(1);
    expect(installs[0]!.args).toMatch(/\bnpm ci\b[^&]*--omit=dev/);
    expect(runtimeOf('RUN').some((i) => /npm run build|\btsc\b/.test(i.args))).toBe(false);
  });

  it('runs as a non-root user given by number', () => {
    const users = runtimeOf('USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.split(':')[0]!;
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    const entrypoint = runtimeOf('ENTRYPOINT')[0]!;
    expect(users.at(-1)!.line).toBeLessThan(entrypoint.line);
  });

  it('starts `herald serve` through an exec-form entrypoint', () => {
    const entrypoints = runtimeOf('ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    expect(execForm(entrypoints[0]!.args)).toEqual(['node', 'dist/main.js']);
    expect(execForm(runtimeOf('CMD').at(-1)!.args)).toEqual(['serve']);
  });

  it('exposes the xDS and admin ports', () => {
    expect(runtimeOf('EXPOSE').flatMap((i) => i.args.split(/\s+/))).toEqual(['18000', '18001']);
  });

  it('names in its ARG the Node major that .ci/node-major.sh tests under', () => {
    const script = readFileSync(path.join(root, '.ci', 'node-major.sh'), 'utf8');
    expect(script).toContain("sed -n 's/^ARG NODE_IMAGE=node:");
    expect(dockerfile.globalArgs.get('NODE_IMAGE')).toMatch(/^node:\d+-/);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(path.join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('ignores everything but what the build copies', () => {
    expect(patterns[0]).toBe('*');
    const allowed = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).replace(/\/$/, ''));
    const copied = dockerfile.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const source of copied) expect(allowed).toContain(source);
    expect(allowed).not.toContain('node_modules');
    expect(allowed).not.toContain('dist');
  });
});
