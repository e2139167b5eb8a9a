package dev.agentfn.standin;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * A local fake of Anthropic's Messages API ({@code POST /v1/messages}, JSON and SSE), for tests,
 * the local demo stand-in and benchmarks. JDK HTTP server only; binds 127.0.0.1.
 *
 * <p>Each {@code /v1/messages} request (any query string, e.g. {@code ?beta=true}) is validated
 * like the real API (401 without {@code x-api-key}/{@code Authorization: Bearer}, 400 without
 * {@code anthropic-version} or {@code model}/{@code max_tokens}/{@code messages}), then pops the
 * next {@link FakeTurn} from a FIFO queue; an empty queue falls back to the {@link Scenario}.
 * Every response carries {@code request-id: req_…}. {@code HEAD|GET /api/hello} answer 200,
 * {@code POST /v1/messages/count_tokens} answers {@code {"input_tokens":n}}, anything else 404.
 *
 * <h2>HTTP control API (not recorded)</h2>
 * <pre>
 * POST /_fake/turns     body: one turn object or a JSON array of them → {"queued":n,"pending_turns":m}
 * GET  /_fake/requests  → [{"method","path" (with query),"headers":{lower-case name: value},
 *                           "body" (raw),"json" (parsed or null),"received_at" (ISO-8601),"received_nanos"}]
 * POST /_fake/reset     clears queue and recordings (config kept) → config
 * POST /_fake/config    {"latency_ms":2000,"scenario":"echo"|"tool-loop","tool_rounds":2,
 *                        "model_latency_ms":{"claude-haiku-4-5":500},
 *                        "latency_jitter_ms":200,"jitter_seed":1} (all optional) → config
 * GET  /_fake/config    → {"latency_ms","latency_jitter_ms","scenario","tool_rounds","pending_turns",
 *                          "recorded_requests","received_requests"}
 * </pre>
 * Turn objects ({@code latency_ms} is optional on all of them):
 * <pre>
 * {"type":"text","text":"Hi"}                                        end_turn unless "stop_reason" given
 * {"type":"tool_use","text":"optional","calls":[{"id":"optional","name":"get_weather","input":{"city":"Paris"}}]}
 * {"type":"reply","stop_reason":"end_turn","content":[{"type":"thinking","thinking":"…","signature":"optional"},
 *                                                     {"type":"text","text":"…"},{"type":"tool_use","name":"t","input":{}}]}
 *   text/tool_use/reply also take "stop_reason", "stop_sequence", "thinking" (prepends a thinking block) and
 *   "usage":{"input_tokens","output_tokens","cache_read_input_tokens","cache_creation_input_tokens"}
 * {"type":"error","status":529,"error_type":"overloaded_error","message":"Overloaded","headers":{"retry-after":"1"}}
 *   error_type and message default to the real API's for that status
 * {"type":"mid_stream_error","error_type":"overloaded_error","message":"Overloaded","after_blocks":1}
 * {"type":"drop_connection","after_blocks":0}
 * </pre>
 *
 * <h2>Command line</h2>
 * {@code java -cp … dev.agentfn.standin.FakeAnthropicServer [--port 8089] [--latency-ms 0]
 * [--scenario echo|tool-loop] [--tool-rounds 2] [--threads 512] [--record-limit 10000]}; each option
 * falls back to {@code FAKE_ANTHROPIC_PORT}, {@code FAKE_ANTHROPIC_LATENCY_MS}, {@code FAKE_ANTHROPIC_SCENARIO},
 * {@code FAKE_ANTHROPIC_TOOL_ROUNDS}, {@code FAKE_ANTHROPIC_THREADS}, {@code FAKE_ANTHROPIC_RECORD_LIMIT}.
 * Prints the base URL on stdout.
 *
 * <p>A turn's latency is a timer, not a sleeping thread: thousands of requests can wait on the "model" at
 * once while the pool stays free for the next ones (scripted connection drops still run on their thread).
 * Only the newest {@code record-limit} requests are kept, so a long-running stand-in or benchmark does
 * not grow without bound.
 */
public final class FakeAnthropicServer implements AutoCloseable {
    /** The response header naming the jitter a request drew, in milliseconds (only while there is jitter). */
    public static final String JITTER_HEADER = "x-fake-jitter-ms";

    public static final int DEFAULT_PORT = 8089;
    public static final int DEFAULT_THREADS = 512;
    public static final int DEFAULT_RECORD_LIMIT = 10_000;
    private static final int BACKLOG = 1024;

    static {
        // The JDK server leaves Nagle on by default, which can hold small SSE frames back for a
        // delayed ACK (~40 ms) and distort time-to-first-token. Read once per JVM, so set early.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final int threads;
    private final Queue<FakeTurn> turns = new ConcurrentLinkedQueue<>();
    private final Queue<RecordedRequest> recorded = new ConcurrentLinkedQueue<>();
    private final AtomicInteger recordedCount = new AtomicInteger();
    /** Every request received since start or reset, however many the record limit kept (benchmarks count calls). */
    private final AtomicLong receivedCount = new AtomicLong();
    private volatile int recordLimit = DEFAULT_RECORD_LIMIT;
    private volatile Duration defaultLatency = Duration.ZERO;
    private final Map<String, Duration> modelLatency = new java.util.concurrent.ConcurrentHashMap<>();
    /** A real model's latency varies; null keeps every request's latency fixed (as a closed loop, in lockstep). */
    private volatile Jitter jitter;
    private volatile Scenario scenario = Scenario.ECHO;
    private volatile int toolRounds = 2;
    private HttpServer server;
    private ThreadPoolExecutor executor;
    private ScheduledExecutorService timer;

    public FakeAnthropicServer() {
        this(DEFAULT_THREADS);
    }

    /** @param threads request threads; each in-flight request (including its latency) holds one */
    public FakeAnthropicServer(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1");
        }
        this.threads = threads;
    }

    /** Binds 127.0.0.1:{@code port} (0 = any free port) and starts serving. */
    public synchronized FakeAnthropicServer start(int port) {
        if (server != null) {
            throw new IllegalStateException("already started");
        }
        executor = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), daemonThreads("fake-anthropic-"));
        executor.allowCoreThreadTimeOut(true);
        timer = Executors.newSingleThreadScheduledExecutor(daemonThreads("fake-anthropic-latency-"));
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), BACKLOG);
        } catch (IOException e) {
            executor.shutdownNow();
            timer.shutdownNow();
            throw new UncheckedIOException("cannot bind 127.0.0.1:" + port, e);
        }
        server.createContext("/", new Router(this));
        server.setExecutor(executor);
        server.start();
        return this;
    }

    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException("not started");
        }
        return server.getAddress().getPort();
    }

    /** {@code http://127.0.0.1:<port>}, without {@code /v1} (what SDKs call the base URL). */
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** Stops immediately; in-flight requests are cut off. */
    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(0);
            timer.shutdownNow();
            executor.shutdownNow();
            server = null;
        }
    }

    // ---- script ---------------------------------------------------------------------------

    public FakeAnthropicServer enqueue(FakeTurn... newTurns) {
        return enqueue(Arrays.asList(newTurns));
    }

    public FakeAnthropicServer enqueue(List<? extends FakeTurn> newTurns) {
        turns.addAll(newTurns);
        return this;
    }

    public int pendingTurns() {
        return turns.size();
    }

    /** Every recorded request, in arrival order (control calls excluded). */
    public List<RecordedRequest> requests() {
        return List.copyOf(recorded);
    }

    /** Only the {@code POST /v1/messages} requests. */
    public List<RecordedRequest> messageRequests() {
        return recorded.stream().filter(RecordedRequest::isMessages).collect(Collectors.toUnmodifiableList());
    }

    /** Clears queued turns and recorded requests; latency and scenario stay. */
    public void reset() {
        turns.clear();
        while (recorded.poll() != null) {
            recordedCount.decrementAndGet();
        }
        receivedCount.set(0);
    }

    /** Requests received since start or the last reset, including those the record limit dropped. */
    public long receivedRequests() {
        return receivedCount.get();
    }

    /** How many requests {@link #requests()} holds now (at most the record limit). */
    public int recordedRequests() {
        return recordedCount.get();
    }

    // ---- configuration (may change while running) -----------------------------------------

    /** Delay before the first byte for turns without their own latency (fixed "model" latency). */
    public FakeAnthropicServer defaultLatency(Duration latency) {
        this.defaultLatency = latency == null ? Duration.ZERO : latency;
        return this;
    }

    public Duration defaultLatency() {
        return defaultLatency;
    }

    /** Latency for requests naming this model (e.g. a judge model faster than the agent's); null removes it. */
    public FakeAnthropicServer modelLatency(String model, Duration latency) {
        if (latency == null) {
            modelLatency.remove(model);
        } else {
            modelLatency.put(model, latency);
        }
        return this;
    }

    /**
     * Adds to each latency that is not a turn's own a uniform draw from 0 to {@code max} ({@link #drawJitter}), from
     * a sequence that starts afresh from {@code seed} here: benchmark points that set the same seed get the same
     * latencies, so sides compared point by point wait the same model times whatever order their requests arrive in.
     * The answer names its draw in the header {@value #JITTER_HEADER}, so a client can take it off its timings.
     */
    public FakeAnthropicServer latencyJitter(Duration max, long seed) {
        long maxMillis = max == null ? 0 : Math.max(0, max.toMillis());
        this.jitter = maxMillis == 0 ? null : new Jitter(maxMillis, new Random(seed));
        return this;
    }

    public Duration latencyJitter() {
        Jitter j = jitter;
        return j == null ? Duration.ZERO : Duration.ofMillis(j.maxMillis());
    }

    /** The latency of a turn without its own: the model's, else the default (then {@link #drawJitter} is added). */
    public Duration latencyFor(String model) {
        return model == null ? defaultLatency : modelLatency.getOrDefault(model, defaultLatency);
    }

    /** The next draw of the latency jitter; null when there is no jitter (a draw of 0 is a draw). */
    public Duration drawJitter() {
        Jitter j = jitter;
        return j == null ? null : Duration.ofMillis(j.random().nextLong(j.maxMillis() + 1));
    }

    /** The bound and the sequence of draws, set together. */
    private record Jitter(long maxMillis, Random random) {
    }

    public FakeAnthropicServer scenario(Scenario newScenario) {
        this.scenario = newScenario;
        return this;
    }

    public Scenario scenario() {
        return scenario;
    }

    /** Tool-result rounds before {@link Scenario#TOOL_LOOP} answers with text. */
    public FakeAnthropicServer toolRounds(int rounds) {
        this.toolRounds = rounds;
        return this;
    }

    public int toolRounds() {
        return toolRounds;
    }

    // ---- used by the handlers -------------------------------------------------------------

    void record(RecordedRequest request) {
        receivedCount.incrementAndGet();
        recorded.add(request);
        if (recordedCount.incrementAndGet() > recordLimit && recorded.poll() != null) {
            recordedCount.decrementAndGet();
        }
    }

    /** Keeps only the newest {@code limit} requests (default {@value #DEFAULT_RECORD_LIMIT}). */
    public FakeAnthropicServer recordLimit(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("record limit must be >= 0");
        }
        this.recordLimit = limit;
        return this;
    }

    /** Runs {@code task} on the request pool after {@code delay}, holding no thread meanwhile. */
    synchronized void later(Duration delay, Runnable task) {
        ThreadPoolExecutor pool = executor;
        timer.schedule(() -> pool.execute(task), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    FakeTurn nextTurn(JsonNode request) {
        FakeTurn turn = turns.poll();
        return turn != null ? turn : ScenarioTurns.next(scenario, request, toolRounds);
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true); // never keeps a test JVM alive; main() is held by the dispatcher
            return t;
        };
    }

    // ---- command line ---------------------------------------------------------------------

    public static void main(String[] args) {
        CliOptions options = CliOptions.parse(args, System.getenv());
        FakeAnthropicServer fake = new FakeAnthropicServer(options.threads())
                .defaultLatency(Duration.ofMillis(options.latencyMs()))
                .scenario(options.scenario())
                .toolRounds(options.toolRounds())
                .recordLimit(options.recordLimit())
                .start(options.port());
        Runtime.getRuntime().addShutdownHook(new Thread(fake::close, "fake-anthropic-shutdown"));
        System.out.println(fake.baseUrl());
        System.out.flush();
    }
}
