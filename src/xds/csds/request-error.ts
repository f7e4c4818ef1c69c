import type * as grpc from '@grpc/grpc-js';

/**
 * A CSDS request Herald refuses: the gRPC status to answer with, and the reason it is counted
 * under in herald_xds_rejected_requests_total.
 */
export class RequestError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** The build stopped because nobody waits for it any more (the caller went, or Herald is closing). */
export class Abandoned extends Error {
  constructor() {
    super('CSDS answer abandoned');
  }
}
