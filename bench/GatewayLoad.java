import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Closed-loop load generator for bench/gateway.py: time to first and to last byte of each answer.
 * Single file, JDK 17 only (platform threads, JDK HttpClient over HTTP/1.1).
 *
 * <pre>
 * java GatewayLoad --url U --body-file F --concurrency C --requests N --max-seconds S --out rows.csv [--ramp-ms R] [--header "k: v"]...
 * java GatewayLoad serve      (then one such argument list per line of standard input, separated by tabs)
 * </pre>
 * C threads each send POST U with the body of F until N requests were sent or S seconds passed (the rest
 * is then not sent: bounded in count and time). With --ramp-ms R, thread t sends its first request R·t/C ms after the
 * load starts instead of at once, so the C clients do not start in lockstep (a closed loop whose model latencies
 * vary then stays spread out; without a ramp its first round of C requests would arrive in the same millisecond). "{n}" in the body and in header values is replaced by a
 * run-unique sequence number (--first + i), "{n12}" in header values by the same, 12 digits wide (the last group
 * of a UUID), so every request can carry its own session id and prompt.
 * One CSV row per request: n,start_ms,ttfb_ms,ttlb_ms,status,bytes,complete,jitter_ms,start_unix_ms. ttfb: from sending to
 * the first byte of the body (the headers may come earlier); ttlb: to the end of the body. complete: the body
 * ends the way a Messages answer ends ({@code message_stop} for SSE, a non-null {@code stop_reason} for
 * JSON), so a cut-off stream is not counted as answered. jitter_ms: the random part of the fake's model latency
 * for this request, from its answer's {@code x-fake-jitter-ms} header (-1 without it). start_unix_ms: start_ms as
 * wall-clock milliseconds (to line requests up with a JVM's {@code -Xlog:...:timemillis}). Prints a one-line JSON
 * summary.
 *
 * <p>Why a JVM client: the same client measures the direct call to the fake and each gateway, so what it
 * costs itself cancels out in gateway − direct; the JDK client on platform threads costs well under a
 * millisecond per request at 256 at once, where an asyncio client on 2 busy cores may not.
 */
public final class GatewayLoad {
    /** A JSON answer that ended: a non-null stop reason (end_turn, tool_use, ...). */
    private static final java.util.regex.Pattern STOP_REASON = java.util.regex.Pattern.compile("\"stop_reason\"\\s*:\\s*\"");

    private record Row(int n, long startMs, double ttfbMs, double ttlbMs, int status, int bytes, boolean complete,
            long jitterMs) {
    }

    /** One client for the whole process: in serve mode it stays warm (JIT, pooled connections) across points. */
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("serve")) {
            serve();
            return;
        }
        load(args);
    }

    /**
     * One load per line of standard input (its arguments separated by tabs), one summary line per load on standard
     * output: the client JVM starts and warms up once, so no point pays the client's own cold start.
     */
    private static void serve() throws Exception {
        var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (!line.isBlank()) {
                load(line.split("\t"));
            }
        }
    }

    private static void load(String[] args) throws Exception {
        URI url = URI.create(value(args, "--url", null));
        String body = Files.readString(Path.of(value(args, "--body-file", null)));
        int concurrency = Integer.parseInt(value(args, "--concurrency", "1"));
        int requests = Integer.parseInt(value(args, "--requests", "10"));
        long maxNanos = TimeUnit.SECONDS.toNanos(Long.parseLong(value(args, "--max-seconds", "60")));
        int first = Integer.parseInt(value(args, "--first", "0"));
        long rampMs = Long.parseLong(value(args, "--ramp-ms", "0"));
        Path out = Path.of(value(args, "--out", "rows.csv"));
        List<String> headers = values(args, "--header");

        HttpClient client = CLIENT;
        AtomicInteger next = new AtomicInteger();
        List<Row> rows = Collections.synchronizedList(new ArrayList<>(requests));
        long t0 = System.nanoTime();
        long t0UnixMs = System.currentTimeMillis(); // start_ms + this = wall-clock ms, to line up with a JVM's -Xlog
        CountDownLatch done = new CountDownLatch(concurrency);
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        for (int t = 0; t < concurrency; t++) {
            long offsetNanos = TimeUnit.MILLISECONDS.toNanos(rampMs * t / concurrency);
            pool.execute(() -> {
                try {
                    sleepUntil(t0 + offsetNanos);
                    int i;
                    while ((i = next.getAndIncrement()) < requests && System.nanoTime() - t0 < maxNanos) {
                        rows.add(send(client, url, body, headers, first + i, t0));
                    }
                } finally {
                    done.countDown();
                }
            });
        }
        done.await();
        pool.shutdown();
        double wallS = (System.nanoTime() - t0) / 1e9;
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8))) {
            w.println("n,start_ms,ttfb_ms,ttlb_ms,status,bytes,complete,jitter_ms,start_unix_ms");
            for (Row r : rows) {
                w.printf(Locale.ROOT, "%d,%d,%.3f,%.3f,%d,%d,%s,%d,%d%n", r.n, r.startMs, r.ttfbMs, r.ttlbMs, r.status, r.bytes,
                        r.complete, r.jitterMs, t0UnixMs + r.startMs);
            }
        }
        long ok = rows.stream().filter(r -> r.status == 200 && r.complete).count();
        System.out.printf(Locale.ROOT, "{\"sent\":%d,\"ok\":%d,\"wall_s\":%.3f}%n", rows.size(), ok, wallS);
        System.out.flush();
    }

    private static void sleepUntil(long nanoTime) {
        long wait;
        while ((wait = nanoTime - System.nanoTime()) > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static Row send(HttpClient client, URI url, String body, List<String> headers, int n, long t0) {
        String seq = Integer.toString(n);
        String seq12 = String.format(Locale.ROOT, "%012d", n); // the last group of a UUID (session ids)
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(120))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.replace("{n}", seq)));
        for (String h : headers) {
            int colon = h.indexOf(':');
            b.header(h.substring(0, colon).trim(), h.substring(colon + 1).trim().replace("{n12}", seq12).replace("{n}", seq));
        }
        long start = System.nanoTime();
        double ttfb = -1;
        int status = -1; // connection failure or timeout: counted, never dropped
        long jitter = -1; // the fake's latency jitter for this request, when it said (and the gateway relayed it)
        byte[] all = new byte[0];
        try {
            HttpResponse<InputStream> r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            status = r.statusCode();
            jitter = r.headers().firstValueAsLong("x-fake-jitter-ms").orElse(-1);
            try (InputStream in = r.body()) {
                int firstByte = in.read();
                ttfb = (System.nanoTime() - start) / 1e6;
                byte[] rest = in.readAllBytes();
                if (firstByte >= 0) {
                    all = new byte[rest.length + 1];
                    all[0] = (byte) firstByte;
                    System.arraycopy(rest, 0, all, 1, rest.length);
                }
            }
        } catch (IOException e) {
            status = -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        double ttlb = (System.nanoTime() - start) / 1e6;
        String text = new String(all, StandardCharsets.UTF_8);
        boolean complete = text.contains("message_stop") || text.startsWith("{") && STOP_REASON.matcher(text).find();
        return new Row(n, TimeUnit.NANOSECONDS.toMillis(start - t0), ttfb, ttlb, status, all.length, complete, jitter);
    }

    private static String value(String[] args, String name, String fallback) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }

    private static List<String> values(String[] args, String name) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                out.add(args[i + 1]);
            }
        }
        return out;
    }
}
