import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Closed-loop load generator for bench/compare.py, and the HTTP tool both sides call in the tool loop.
 * Single file, JDK 17 only (platform threads, JDK HttpClient): {@code java bench/LoadGen.java ...}.
 *
 * <pre>
 * load --url U --body-file F --concurrency C --requests N --max-seconds S --out latencies.csv [--header "k: v"]...
 *     C threads each send POST U with the body of F ("{n}" replaced by a run-unique sequence number)
 *     until N requests were sent or S seconds passed (then the rest is not sent: bounded in count and
 *     time). One CSV row per request: n,start_ms,latency_ms,status,trace_id,export (agentfn's trace.export). Prints a one-line summary.
 * tool-server --port P
 *     POST /weather answers {"temp_c":21,"sky":"clear"} at once (the tool of the 3-turn tool loop).
 * </pre>
 * Why closed-loop: it mirrors C users waiting for their answer; the
 * response time of each request is what both sides are compared on.
 */
public final class LoadGen {
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("tool-server")) {
            toolServer(Integer.parseInt(value(args, "--port", "0")));
            return;
        }
        if (args.length == 0 || !args[0].equals("load")) {
            System.err.println("usage: LoadGen load ... | LoadGen tool-server --port P");
            System.exit(2);
        }
        load(args);
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

    private static final java.util.regex.Pattern EXPORT = java.util.regex.Pattern.compile("\"export\"\\s*:\\s*\"(\\w+)\"");

    private record Row(int n, long startMs, double latencyMs, int status, String traceId, String export) {
    }

    private static void load(String[] args) throws Exception {
        URI url = URI.create(value(args, "--url", null));
        String body = Files.readString(Path.of(value(args, "--body-file", null)));
        int concurrency = Integer.parseInt(value(args, "--concurrency", "1"));
        int requests = Integer.parseInt(value(args, "--requests", "10"));
        long maxNanos = TimeUnit.SECONDS.toNanos(Long.parseLong(value(args, "--max-seconds", "60")));
        int first = Integer.parseInt(value(args, "--first", "0"));
        Path out = Path.of(value(args, "--out", "latencies.csv"));
        List<String> headers = values(args, "--header");

        // One shared client: it keeps one pooled HTTP/1.1 connection per busy thread, like C callers.
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        AtomicInteger next = new AtomicInteger();
        List<Row> rows = java.util.Collections.synchronizedList(new ArrayList<>(requests));
        long t0 = System.nanoTime();
        CountDownLatch done = new CountDownLatch(concurrency);
        var pool = Executors.newFixedThreadPool(concurrency);
        for (int t = 0; t < concurrency; t++) {
            pool.execute(() -> {
                try {
                    int i;
                    while ((i = next.getAndIncrement()) < requests && System.nanoTime() - t0 < maxNanos) {
                        int n = first + i;
                        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(120))
                                .header("content-type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body.replace("{n}", Integer.toString(n))));
                        for (String h : headers) {
                            int colon = h.indexOf(':');
                            b.header(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
                        }
                        long start = System.nanoTime();
                        int status;
                        String traceId = "";
                        String export = "";
                        try {
                            HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                            status = r.statusCode();
                            traceId = r.headers().firstValue("x-trace-id").orElse("");
                            var m = EXPORT.matcher(new String(r.body(), StandardCharsets.UTF_8));
                            export = m.find() ? m.group(1) : ""; // agentfn: delivered | spooled | ...
                        } catch (IOException e) {
                            status = -1; // connection failure or timeout: counted, never dropped
                        }
                        long end = System.nanoTime();
                        rows.add(new Row(n, TimeUnit.NANOSECONDS.toMillis(start - t0), (end - start) / 1e6, status, traceId, export));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            });
        }
        done.await();
        pool.shutdown();
        double wallS = (System.nanoTime() - t0) / 1e9;
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8))) {
            w.println("n,start_ms,latency_ms,status,trace_id,export");
            for (Row r : rows) {
                w.printf(java.util.Locale.ROOT, "%d,%d,%.3f,%d,%s,%s%n", r.n, r.startMs, r.latencyMs, r.status, r.traceId,
                        r.export);
            }
        }
        long ok = rows.stream().filter(r -> r.status == 200).count();
        System.out.printf(java.util.Locale.ROOT, "{\"sent\":%d,\"ok\":%d,\"wall_s\":%.3f}%n", rows.size(), ok, wallS);
    }

    private static void toolServer(int port) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1024);
        s.setExecutor(Executors.newFixedThreadPool(64));
        byte[] answer = "{\"temp_c\":21,\"sky\":\"clear\"}".getBytes(StandardCharsets.UTF_8);
        s.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        s.start();
        System.out.println("http://127.0.0.1:" + s.getAddress().getPort());
        System.out.flush();
    }
}
