// The grpc-js-xds proxyless probe: @grpc/grpc-js with @grpc/grpc-js-xds's resolver and balancers,
// run as its own process so it speaks the same protocol as the other probes (see
// ../xds-probe.ts) and reads its bootstrap from GRPC_XDS_BOOTSTRAP_CONFIG as they do.
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { Buffer } from 'node:buffer';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const MAX_CALLS_PER_COMMAND = 10_000;
const MAX_WATCHED = 1_000;
const METHOD = '/herald.test.Echo/Who';

const { values } = parseArgs({ options: { target: { type: 'string' }, 'deadline-ms': { type: 'string', default: '5000' } } });
const target = values.target;
const deadlineMs = Number(values['deadline-ms']);
if (!target || !Number.isInteger(deadlineMs) || deadlineMs <= 0) {
  process.stderr.write('usage: xds-probe.mjs --target TARGET [--deadline-ms N]\n');
  process.exit(2);
}

grpcXds.register();
const identity = (b) => b;
const main = new grpc.Client(target, grpc.credentials.createInsecure());
const watched = [];
// Resolution starts with the first call otherwise.
main.getChannel().getConnectivityState(true);

const emit = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

function callOnce() {
  return new Promise((resolve) => {
    main.makeUnaryRequest(METHOD, identity, identity, Buffer.alloc(0), new grpc.Metadata({ waitForReady: true }), { deadline: Date.now() + deadlineMs }, (error, reply) =>
      resolve(error ? { error: `${grpc.status[error.code] ?? error.code}: ${error.details}` } : { backend: reply.toString() }),
    );
  });
}

async function callMany(n) {
  const report = { backends: {}, errors: 0 };
  for (let i = 0; i < n; i++) {
    const result = await callOnce();
    if (result.error !== undefined) {
      report.errors += 1;
      report.lastError = result.error;
    } else {
      report.backends[result.backend] = (report.backends[result.backend] ?? 0) + 1;
    }
  }
  return report;
}

function close() {
  for (const c of watched) c.close();
  main.close();
  process.exit(0);
}

emit({ started: target });
// Commands run one at a time, in order, like the other probes.
let queue = Promise.resolve();
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  queue = queue.then(async () => {
    const fields = line
      .trim()
      .split(/\s+/)
      .filter((f) => f !== '');
    if (fields.length === 0) return;
    if (fields[0] === 'quit' && fields.length === 1) close();
    else if (fields[0] === 'call' && fields.length === 2) {
      const n = /^\d+$/.test(fields[1]) ? Number(fields[1]) : -1;
      if (n < 0 || n > MAX_CALLS_PER_COMMAND) emit({ error: `call: N must be an integer in 0..${MAX_CALLS_PER_COMMAND}` });
      else emit(await callMany(n));
    } else if (fields[0] === 'watch' && fields.length === 2) {
      if (watched.length >= MAX_WATCHED) {
        emit({ error: `watch: at most ${MAX_WATCHED} channels` });
        return;
      }
      const channel = new grpc.Client(fields[1], grpc.credentials.createInsecure());
      channel.getChannel().getConnectivityState(true);
      watched.push(channel);
      emit({ watching: fields[1] });
    } else emit({ error: `unknown command ${JSON.stringify(line)} (want: call N | watch TARGET | quit)` });
  });
});
lines.on('close', () => void queue.then(close));
