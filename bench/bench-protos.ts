// Herald finds protos/ two directories above its compiled modules; the bench build puts them
// under .cache/bench-js/, so protos/ is linked in there before Herald's code (the daemon in
// herald-server.ts, the proto loader in soak.ts) runs from the bench build.
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type protobuf from 'protobufjs';
import { loadEnvoyProtos } from '../src/resources/index.js';

export function linkProtos(): void {
  const link = fileURLToPath(new URL('../protos', import.meta.url));
  if (!existsSync(link)) symlinkSync(join(fileURLToPath(new URL('../../../', import.meta.url)), 'protos'), link, 'dir');
}

/** The Envoy protos, loaded from the bench build. */
export function benchProtos(): protobuf.Root {
  linkProtos();
  return loadEnvoyProtos();
}
