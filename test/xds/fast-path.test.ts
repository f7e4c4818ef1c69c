import { describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { grpcJsVersion, TransportPaths, type ReadPath, type WritePath } from '../../src/xds/transport/fast-path.js';
import type { Logger } from '../../src/telemetry/index.js';

function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_fields: object, msg: string) => void lines.push({ level, msg });
  return { lines, logger: { info: at('info'), warn: at('warn') } as unknown as Logger };
}

describe('TransportPaths', () => {
  it.each([
    {
      enabled: true,
      streams: [
        ['direct', 'splitter'],
        ['direct', 'splitter'],
      ],
      warns: 0,
    },
    {
      enabled: true,
      streams: [
        ['direct', 'splitter'],
        ['grpc-js', 'splitter'],
        ['grpc-js', 'grpc-js'],
      ],
      warns: 1,
    },
    {
      enabled: false,
      streams: [
        ['grpc-js', 'grpc-js'],
        ['grpc-js', 'grpc-js'],
      ],
      warns: 0,
    },
  ] as { enabled: boolean; streams: [WritePath, ReadPath][]; warns: number }[])('enabled=$enabled, $streams.length streams: $warns warnings', async ({ enabled, streams, warns }) => {
    const counter = new Counter({ name: 'paths_total', help: 'x', labelNames: ['write', 'read'], registers: [new Registry()] });
    const { lines, logger } = recordingLogger();
    const paths = new TransportPaths(enabled, counter, logger);
    for (const [write, read] of streams) paths.record(write, read);
    const counted = (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
    expect(counted).toBe(streams.length);
    expect(lines.filter((l) => l.level === 'info')).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(warns);
  });

  it('reads the installed grpc-js version, the one package.json pins', async () => {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    expect(grpcJsVersion()).toBe(pkg.dependencies['@grpc/grpc-js']);
  });
});
