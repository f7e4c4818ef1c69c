// A proxyless gRPC client built on grpc-java's own xDS implementation (grpc-xds). It resolves an
// xds:/// target through the control plane named in the bootstrap (grpc-java reads it from
// GRPC_XDS_BOOTSTRAP_CONFIG) and answers commands read from stdin, one per line, with one JSON
// line each on stdout; test/interop/xds-probe.ts drives it:
//
//   call N    make N sequential unary calls (raw bytes, empty request);
//             reply: {"backends": {name: count}, "errors": n, "lastError"?: string}
//   watch T   open another channel, to target T, and start it connecting; reply: {"watching": T}
//   quit      exit (so does the end of stdin)
//
// Every call has a deadline and the program exits when stdin closes, so a test that dies cannot
// leave it running. stdout carries the protocol only: anything else that writes to System.out
// (and grpc-java's java.util.logging output, which goes to stderr anyway) lands on stderr.
package herald.interop;

import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

public final class XdsProbe {
  /** Bounds one command so a typo cannot keep the probe busy for hours. */
  static final int MAX_CALLS_PER_COMMAND = 10_000;

  /** Bounds the extra channels one probe opens. */
  static final int MAX_WATCHED = 1_000;

  private static final String DEFAULT_METHOD = "herald.test.Echo/Who";

  private final ManagedChannel channel;
  private final MethodDescriptor<byte[], byte[]> method;
  private final long deadlineMs;
  private final List<ManagedChannel> watched = new ArrayList<>();

  private XdsProbe(ManagedChannel channel, MethodDescriptor<byte[], byte[]> method, long deadlineMs) {
    this.channel = channel;
    this.method = method;
    this.deadlineMs = deadlineMs;
  }

  public static void main(String[] args) {
    // The protocol's stream, taken before anything else can write to it.
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err);

    String target = null;
    String methodName = DEFAULT_METHOD;
    long deadlineMs = 5_000;
    try {
      for (int i = 0; i < args.length; i++) {
        String flag = args[i];
        String value;
        int eq = flag.indexOf('=');
        if (flag.startsWith("--") && eq > 0) {
          value = flag.substring(eq + 1);
          flag = flag.substring(0, eq);
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          throw new IllegalArgumentException("flag " + flag + " needs a value");
        }
        switch (flag) {
          case "--target" -> target = value;
          case "--deadline-ms" -> deadlineMs = Long.parseLong(value);
          case "--method" -> methodName = value.startsWith("/") ? value.substring(1) : value;
          default -> throw new IllegalArgumentException("unknown flag " + flag);
        }
      }
      if (target == null || target.isEmpty() || deadlineMs <= 0) {
        throw new IllegalArgumentException("--target is required and --deadline-ms must be positive");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("grpc-java-xds-probe: " + e.getMessage());
      System.err.println("usage: XdsProbe --target xds:///NAME [--deadline-ms N] [--method /pkg.Service/Method]");
      System.exit(2);
      return;
    }

    ManagedChannel channel = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
    // Resolution starts with the first RPC otherwise; starting now lets the xDS watches run while
    // the test prepares its first command.
    channel.getState(true);
    XdsProbe probe = new XdsProbe(channel, rawMethod(methodName), deadlineMs);
    out.println(Json.object(Map.of("started", target)));

    int status = 0;
    try {
      probe.serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), out);
    } catch (IOException | UncheckedIOException e) {
      System.err.println("grpc-java-xds-probe: " + e);
      status = 1;
    } finally {
      probe.shutdown();
    }
    // grpc-java's shared xDS client keeps executor threads; exit rather than wait for them.
    System.exit(status);
  }

  /** Answers each command line until quit or the end of input. */
  private void serve(BufferedReader in, PrintStream out) throws IOException {
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      String[] fields = line.trim().split("\\s+");
      if (fields.length == 1 && fields[0].isEmpty()) continue;
      String answer;
      if (fields[0].equals("quit") && fields.length == 1) {
        return;
      } else if (fields[0].equals("call") && fields.length == 2) {
        answer = call(fields[1]);
      } else if (fields[0].equals("watch") && fields.length == 2) {
        answer = watch(fields[1]);
      } else {
        answer = error("unknown command " + Json.string(line) + " (want: call N | watch TARGET | quit)");
      }
      out.println(answer);
      if (out.checkError()) throw new IOException("stdout is closed");
    }
  }

  private String call(String count) {
    // ASCII digits only (parseInt alone would take other scripts' digits too), and few enough
    // of them to parse.
    int n = count.matches("\\+?[0-9]{1,6}") ? Integer.parseInt(count) : -1;
    if (n < 0 || n > MAX_CALLS_PER_COMMAND) {
      return error("call: N must be an integer in 0.." + MAX_CALLS_PER_COMMAND);
    }
    Map<String, Integer> backends = new TreeMap<>();
    int errors = 0;
    String lastError = null;
    for (int i = 0; i < n; i++) {
      CallOptions options = CallOptions.DEFAULT.withWaitForReady().withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
      try {
        byte[] reply = ClientCalls.blockingUnaryCall(channel, method, options, new byte[0]);
        backends.merge(new String(reply, StandardCharsets.UTF_8), 1, Integer::sum);
      } catch (StatusRuntimeException e) {
        errors++;
        lastError = e.getMessage();
      }
    }
    StringBuilder json = new StringBuilder("{\"backends\":").append(Json.object(backends)).append(",\"errors\":").append(errors);
    if (lastError != null) json.append(",\"lastError\":").append(Json.string(lastError));
    return json.append('}').toString();
  }

  private String watch(String target) {
    if (watched.size() >= MAX_WATCHED) return error("watch: at most " + MAX_WATCHED + " channels");
    ManagedChannel extra;
    try {
      extra = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
    } catch (RuntimeException e) {
      return error("watch: " + e.getMessage());
    }
    extra.getState(true);
    watched.add(extra);
    return Json.object(Map.of("watching", target));
  }

  private void shutdown() {
    List<ManagedChannel> all = new ArrayList<>(watched);
    all.add(channel);
    for (ManagedChannel c : all) c.shutdownNow();
    // One bound for all of them, however many were watched.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    try {
      for (ManagedChannel c : all) c.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String error(String message) {
    return Json.object(Map.of("error", message));
  }

  /** A unary method on raw bytes: the echo service has no schema, only bytes. */
  private static MethodDescriptor<byte[], byte[]> rawMethod(String fullName) {
    MethodDescriptor.Marshaller<byte[]> bytes =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
          }

          @Override
          public byte[] parse(InputStream stream) {
            try {
              return stream.readAllBytes();
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }
        };
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(fullName)
        .setRequestMarshaller(bytes)
        .setResponseMarshaller(bytes)
        .build();
  }

  /** The little JSON the protocol needs: strings, and flat objects of strings or integers. */
  static final class Json {
    private Json() {}

    static String string(String s) {
      StringBuilder b = new StringBuilder(s.length() + 2).append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> b.append("\\\"");
          case '\\' -> b.append("\\\\");
          case '\n' -> b.append("\\n");
          case '\r' -> b.append("\\r");
          case '\t' -> b.append("\\t");
          default -> {
            if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
          }
        }
      }
      return b.append('"').toString();
    }

    static String object(Map<String, ?> fields) {
      StringBuilder b = new StringBuilder("{");
      for (Map.Entry<String, ?> e : new TreeMap<>(fields).entrySet()) {
        if (b.length() > 1) b.append(',');
        b.append(string(e.getKey())).append(':');
        Object v = e.getValue();
        b.append(v instanceof Number ? v.toString() : string(String.valueOf(v)));
      }
      return b.append('}').toString();
    }
  }
}
