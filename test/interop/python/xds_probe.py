"""A proxyless gRPC client on gRPC C-core's own xDS implementation, through Python's grpcio.

It resolves an xds:/// target through the control plane named in the bootstrap (C-core reads it
from GRPC_XDS_BOOTSTRAP_CONFIG, or from the file named by GRPC_XDS_BOOTSTRAP) and answers
commands read from stdin, one per line, with one JSON line each on stdout (the protocol of
test/interop/xds-probe.ts, which every probe speaks):

    call N    N sequential unary calls (raw bytes, empty request)
              -> {"backends": {name: count}, "errors": n, "lastError"?: "..."}
    watch T   open one more channel, to target T, and start it connecting -> {"watching": T}
    quit      exit (so does the end of stdin)

Nothing else is written to stdout; C-core logs to stderr. Every call has a deadline and the
program exits when stdin closes, so a test that dies cannot leave it running.
"""

import argparse
import json
import os
import re
import sys
import traceback

import grpc

METHOD = "/herald.test.Echo/Who"
# Bounds one command, so a typo cannot keep the probe busy for hours.
MAX_CALLS_PER_COMMAND = 10_000
# Bounds the extra channels one probe opens.
MAX_WATCHED = 1_000
INTEGER = re.compile(r"[+-]?[0-9]+")


def emit(value):
    sys.stdout.write(json.dumps(value, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def start_connecting(channel):
    """Leaves IDLE now, so the xDS watches run before the first call.

    try_to_connect is what starts resolution; the subscription is only the way grpcio offers to
    ask for it, so the callback drops it once it has reported the first state.
    """

    def on_state(_state):
        channel.unsubscribe(on_state)

    channel.subscribe(on_state, try_to_connect=True)


def call_many(who, n, timeout_s):
    backends = {}
    errors = 0
    last_error = None
    for _ in range(n):
        try:
            reply = who(b"", timeout=timeout_s, wait_for_ready=True)
        except grpc.RpcError as err:
            errors += 1
            last_error = f"{err.code().name}: {err.details()}"
            continue
        name = reply.decode("utf-8", errors="replace")
        backends[name] = backends.get(name, 0) + 1
    report = {"backends": backends, "errors": errors}
    if last_error is not None:
        report["lastError"] = last_error
    return report


def serve(channel, timeout_s):
    # No serializers: the request and the reply stay bytes (the echo service has no schema).
    who = channel.unary_unary(METHOD)
    watched = []
    try:
        while True:
            line = sys.stdin.readline()
            if line == "":
                return
            fields = line.split()
            if not fields:
                continue
            if fields == ["quit"]:
                return
            if fields[0] == "call" and len(fields) == 2:
                if not INTEGER.fullmatch(fields[1]) or not 0 <= int(fields[1]) <= MAX_CALLS_PER_COMMAND:
                    emit({"error": f"call: N must be an integer in 0..{MAX_CALLS_PER_COMMAND}"})
                    continue
                emit(call_many(who, int(fields[1]), timeout_s))
            elif fields[0] == "watch" and len(fields) == 2:
                if len(watched) >= MAX_WATCHED:
                    emit({"error": f"watch: at most {MAX_WATCHED} channels"})
                    continue
                try:
                    other = grpc.insecure_channel(fields[1])
                except Exception as err:  # grpcio raises several kinds for a bad target
                    emit({"error": f"watch: {err}"})
                    continue
                watched.append(other)
                start_connecting(other)
                emit({"watching": fields[1]})
            else:
                command = json.dumps(line.rstrip("\r\n"))
                emit({"error": f"unknown command {command} (want: call N | watch TARGET | quit)"})
    finally:
        for other in watched:
            other.close()


def main():
    parser = argparse.ArgumentParser(description="proxyless xDS probe on gRPC C-core (grpcio)")
    parser.add_argument("--target", required=True, help="dial target, e.g. xds:///echo")
    parser.add_argument("--deadline-ms", type=int, default=5000, help="deadline of each call, in milliseconds")
    args = parser.parse_args()
    if args.deadline_ms <= 0:
        parser.error("--deadline-ms must be positive")

    # Insecure applies to the backends; the channel to the control plane takes its credentials
    # from the bootstrap's channel_creds.
    channel = grpc.insecure_channel(args.target)
    status = 0
    try:
        start_connecting(channel)
        emit({"started": args.target})
        serve(channel, args.deadline_ms / 1000)
    except BrokenPipeError:
        status = 1
    except Exception:  # reported, then the same exit path: finalization could hang (below)
        traceback.print_exc()
        status = 1
    finally:
        channel.close()
    # Exit without the interpreter's finalization: grpcio's connectivity threads are daemons, and
    # one frozen at shutdown while holding its channel's lock deadlocks the channel's finalizer
    # (seen with `quit` right after start). The channels are closed and stdout is flushed.
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
