// Finds the grpc-java probe that test/interop/java/build.sh builds and says how to run it. Like the
// Go tools, the tests never build it: a Maven build belongs to CI's setup, not to a test hook.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocatedProbe } from '../probe-clients.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export const JAVA_PROBE_MAIN = 'herald.interop.XdsProbe';

/**
 * JVM flags for a short-lived client on a 2-core machine shared with the rest of the suite: the
 * serial collector (no GC threads to compete for the cores), C1 only (start-up over peak speed,
 * the calls wait on the network anyway), a small heap and small thread stacks. The JVM's own
 * warnings go to stdout by default; stdout is the probe's protocol, so they go to stderr.
 */
export const JAVA_PROBE_JVM_FLAGS: readonly string[] = [
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Xss512k',
  '-Xmx256m',
  '-Xlog:disable',
  '-Xlog:all=warning:stderr:uptime,level,tags',
  '-XX:+DisplayVMOutputToStderr',
];

/**
 * The probe's launch, from HERALD_INTEROP_JAVA_DIR if set, else from the directory build.sh would
 * use for the current sources and toolchain; or why it cannot run.
 */
export function locateJavaProbe(): LocatedProbe {
  let dir = process.env.HERALD_INTEROP_JAVA_DIR;
  if (!dir) {
    const probe = spawnSync('bash', [path.join(here, 'build.sh'), '--dir'], { encoding: 'utf8', timeout: 30_000 });
    if (probe.status !== 0) {
      return { reason: `grpc-java probe unavailable: ${(probe.stderr || probe.error?.message || 'build.sh --dir failed').trim()}` };
    }
    dir = probe.stdout.trim();
  }
  const jar = path.join(dir, 'probe.jar');
  const lib = path.join(dir, 'lib');
  const missing = [jar, lib].filter((file) => !existsSync(file));
  if (missing.length > 0) {
    return { reason: `grpc-java probe not built (missing ${missing.map((f) => path.basename(f)).join(', ')} in ${dir}): run \`bash test/interop/java/build.sh\`` };
  }
  return { launch: { command: 'java', args: [...JAVA_PROBE_JVM_FLAGS, '-cp', `${jar}${path.delimiter}${path.join(lib, '*')}`, JAVA_PROBE_MAIN] } };
}
