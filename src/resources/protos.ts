import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

interface UpstreamList {
  includeDirs: string[];
  files: string[];
}

/** The project's list of upstream protos lives in protos/upstream.json at the package root. */
function readUpstreamList(): UpstreamList {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/resources or dist/resources → package root is two levels up.
  const listPath = path.resolve(here, '..', '..', 'protos', 'upstream.json');
  return JSON.parse(fs.readFileSync(listPath, 'utf8')) as UpstreamList;
}

/**
 * Loads the Envoy/xDS API from the installed @grpc/grpc-js-xds package into one protobufjs Root.
 * Field names keep their proto spelling (snake_case) so objects read like Envoy's docs.
 * Call once at start-up and pass the Root to whoever needs it.
 */
export function loadEnvoyProtos(): protobuf.Root {
  const list = readUpstreamList();
  const xdsPackageDir = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const protobufjsDir = path.dirname(require.resolve('protobufjs/package.json'));
  const includeDirs = list.includeDirs.map((dir) => path.join(xdsPackageDir, 'deps', dir));

  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (path.isAbsolute(target)) return target;
    if (target.startsWith('google/protobuf/')) {
      // descriptor.proto and friends ship with protobufjs; any/duration/struct/... are built in.
      const shipped = path.join(protobufjsDir, target);
      return fs.existsSync(shipped) ? shipped : target;
    }
    for (const dir of includeDirs) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  root.loadSync(list.files, { keepCase: true });
  root.resolveAll();
  return root;
}
