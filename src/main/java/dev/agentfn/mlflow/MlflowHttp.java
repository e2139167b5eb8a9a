package dev.agentfn.mlflow;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The HTTP transport of {@link MlflowRest}: one Vert.x client on the application's event loops.
 *
 * <p>Why not the JDK {@code HttpClient}: building one sets up the default TLS context (about 0.1 s of a
 * cold start, even for an {@code http://} server), and every {@code sendAsync} completes through
 * {@code CompletableFuture}'s default executor, which on machines with two CPUs or fewer (most Lambda
 * sizes) starts a new thread per response. Here the I/O stays on the event loop; results are handed to
 * a small reusable pool because callers chain further work (and sometimes wait) on them.
 */
public final class MlflowHttp {
    /** Exports in flight are bounded upstream; the pool matches what a burst of them needs. */
    private static final int MAX_CONNECTIONS = 256;
    private static final int MAX_WAITING = 4096;
    /**
     * Idle pooled connections are dropped after this many seconds: below the 5 s after which
     * {@code mlflow server} (uvicorn) closes an idle keep-alive connection itself, so a request is not
     * written into a connection the server is closing at that moment.
     */
    private static final int IDLE_SECONDS = 4;
    private static final Set<String> COMPUTED_HEADERS = Set.of("content-length", "host", "connection", "expect",
            "upgrade", "transfer-encoding");

    private final Vertx vertx;
    private final HttpClient http;
    private final Executor completions;

    public MlflowHttp(Vertx vertx) {
        this.vertx = vertx;
        this.http = vertx.createHttpClient(new HttpClientOptions().setName("agentfn-mlflow")
                .setProtocolVersion(HttpVersion.HTTP_1_1).setConnectTimeout(10_000).setKeepAlive(true)
                .setMaxPoolSize(MAX_CONNECTIONS).setMaxWaitQueueSize(MAX_WAITING).setKeepAliveTimeout(IDLE_SECONDS)
                .setVerifyHost(true)
                .setTryUseCompression(false));
        this.completions = new ThreadPoolExecutor(2, 64, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "agentfn-mlflow");
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
    }

    /** For clients built outside the application (tests, benchmarks): one Vert.x instance per JVM. */
    static MlflowHttp standalone() {
        return Standalone.INSTANCE;
    }

    /** One HTTP request; {@code headers} keep their order, names the client computes itself are skipped. */
    public record Request(String method, String uri, Map<String, String> headers, byte[] body, Duration timeout) {
        public Request {
            headers = new LinkedHashMap<>(headers);
            body = body == null ? new byte[0] : body;
        }
    }

    /** The status and the whole body. */
    public record Response(int status, byte[] body) {
    }

    /**
     * Sends the request. Completes with any status the server answered; exceptionally only when there
     * was no answer: connection failure (a {@link java.net.ConnectException}) or {@link TimeoutException}
     * after the request's timeout, connect included.
     */
    public CompletableFuture<Response> send(Request r) {
        CompletableFuture<Response> done = new CompletableFuture<>();
        AtomicBoolean settled = new AtomicBoolean();
        AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
        long timer = vertx.setTimer(Math.max(1, r.timeout().toMillis()), id -> {
            if (settled.compareAndSet(false, true)) {
                HttpClientRequest req = sent.get();
                if (req != null) {
                    req.reset();
                }
                completions.execute(() -> done.completeExceptionally(
                        new TimeoutException("no answer within " + r.timeout().toMillis() + " ms")));
            }
        });
        attempt(r, sent, settled, true).onComplete(ar -> {
            if (!settled.compareAndSet(false, true)) {
                return; // timed out first
            }
            vertx.cancelTimer(timer);
            completions.execute(() -> {
                if (ar.succeeded()) {
                    done.complete(ar.result());
                } else {
                    done.completeExceptionally(ar.cause());
                }
            });
        });
        return done;
    }

    /**
     * One try. The body is subscribed to in the callback of {@code send()} itself: Vert.x drops response
     * chunks that arrive before a body handler is set, and a callback chained on the outer future runs a
     * dispatch later, after the first chunk (an empty 2xx body, intermittently; vert.x issue 4106).
     * A connection that closes before any answer is tried once more on a new connection: a
     * pooled keep-alive connection the server dropped just as it was reused, so the server never read
     * the request (other servers close idle connections sooner than uvicorn, e.g. gunicorn after 2 s).
     */
    private Future<Response> attempt(Request r, AtomicReference<HttpClientRequest> sent, AtomicBoolean settled,
            boolean mayRetry) {
        AtomicBoolean answered = new AtomicBoolean();
        return http.request(options(r)).compose(req -> {
            sent.set(req);
            return req.send(Buffer.buffer(r.body())).compose(resp -> {
                answered.set(true);
                return resp.body().map(b -> new Response(resp.statusCode(), b.getBytes()));
            });
        }).recover(t -> mayRetry && !answered.get() && !settled.get() && t instanceof HttpClosedException
                ? attempt(r, sent, settled, false) : Future.failedFuture(t));
    }

    private static RequestOptions options(Request r) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        r.headers().forEach((k, v) -> {
            if (!COMPUTED_HEADERS.contains(k.toLowerCase(java.util.Locale.ROOT))) {
                headers.set(k, v);
            }
        });
        return new RequestOptions().setMethod(HttpMethod.valueOf(r.method())).setAbsoluteURI(r.uri())
                .setHeaders(headers);
    }

    private static final class Standalone {
        static final MlflowHttp INSTANCE = new MlflowHttp(Vertx.vertx());
    }
}
