package dev.agentfn.mlflow;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * Forwards everything to a real MLflow server and records the answers to {@code POST /v1/traces}. OTLP
 * requests can be held before they are forwarded ({@link #holdBeforeForwarding}: the request slot stays
 * busy, so later traces queue up and share the next request) or after MLflow stored them ({@link
 * #holdAnswers}: the client times out although MLflow has the spans, and retries).
 */
final class HoldingMlflowProxy implements AutoCloseable {
    private static final List<String> FORWARDED = List.of("Content-Type", "Content-Encoding", "Accept",
            MlflowKeys.Header.EXPERIMENT_ID, MlflowKeys.Header.RUN_ID);

    private final URI upstream;
    private final HttpServer server;
    private final ExecutorService handlers = Executors.newCachedThreadPool();
    private final HttpClient http = HttpClient.newHttpClient();
    /** Status MLflow answered, for each OTLP request it got, in order. */
    final List<Integer> otlpStatuses = new CopyOnWriteArrayList<>();
    /** OTLP requests that reached the proxy so far (held or not). */
    final Semaphore otlpArrived = new Semaphore(0);
    private volatile CountDownLatch beforeForwarding = new CountDownLatch(0);
    private volatile CountDownLatch beforeAnswering = new CountDownLatch(0);

    HoldingMlflowProxy(URI upstream) throws IOException {
        this.upstream = upstream;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(handlers);
        server.createContext("/", this::handle);
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** OTLP requests wait until the returned latch is counted down, then go to MLflow. */
    CountDownLatch holdBeforeForwarding() {
        beforeForwarding = new CountDownLatch(1);
        return beforeForwarding;
    }

    /** OTLP requests go to MLflow at once; its answers wait until the returned latch is counted down. */
    CountDownLatch holdAnswers() {
        beforeAnswering = new CountDownLatch(1);
        return beforeAnswering;
    }

    private void handle(HttpExchange ex) throws IOException {
        boolean otlp = ex.getRequestURI().getRawPath().equals("/v1/traces");
        try {
            byte[] body = ex.getRequestBody().readAllBytes();
            if (otlp) {
                otlpArrived.release();
                beforeForwarding.await();
            }
            HttpRequest.Builder req = HttpRequest.newBuilder(upstream.resolve(ex.getRequestURI().toString()))
                    .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(body));
            for (String h : FORWARDED) {
                String v = ex.getRequestHeaders().getFirst(h);
                if (v != null) {
                    req.header(h, v);
                }
            }
            HttpResponse<byte[]> r = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (otlp) {
                otlpStatuses.add(r.statusCode());
                beforeAnswering.await();
            }
            r.headers().firstValue("Content-Type").ifPresent(ct -> ex.getResponseHeaders().set("Content-Type", ct));
            ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
            if (r.body().length > 0) {
                ex.getResponseBody().write(r.body());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            ex.close();
        }
    }

    @Override
    public void close() {
        beforeForwarding.countDown();
        beforeAnswering.countDown();
        server.stop(0);
        handlers.shutdownNow();
    }
}
