import * as grpc from '@grpc/grpc-js';

const identity = (value: Buffer) => value;

/** One unary method whose reply names the backend that served it. */
const echoDefinition: grpc.ServiceDefinition = {
  who: {
    path: '/herald.test.Echo/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export interface EchoBackend {
  name: string;
  host: string;
  port: number;
  calls: number;
  stop(): Promise<void>;
}

/** What one call gets instead of a plain reply: a delay first, then a failure status. */
export interface CallBehaviour {
  delayMs?: number;
  fail?: grpc.status;
}

/**
 * A real gRPC server on a loopback address, standing in for one pod of a service. `behave`, when
 * given, decides per call (from its metadata) to delay or fail it.
 */
export async function startEchoBackend(name: string, host: string, behave?: (metadata: grpc.Metadata) => CallBehaviour | undefined): Promise<EchoBackend> {
  const server = new grpc.Server();
  const backend: EchoBackend = {
    name,
    host,
    port: 0,
    calls: 0,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
  server.addService(echoDefinition, {
    who: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      backend.calls += 1;
      const behaviour = behave?.(call.metadata) ?? {};
      const answer = () => (behaviour.fail === undefined ? callback(null, Buffer.from(name)) : callback({ code: behaviour.fail, details: `${name} fails this call` }));
      if (behaviour.delayMs === undefined) answer();
      else setTimeout(answer, behaviour.delayMs);
    },
  });
  backend.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
  );
  return backend;
}

/** Calls Who once and returns the name of the backend that answered. */
export function callWho(client: grpc.Client, deadlineMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(echoDefinition.who!.path, identity, identity, Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (error, reply) =>
      error ? reject(error) : resolve(reply!.toString()),
    );
  });
}
