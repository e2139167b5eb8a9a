package dev.agentfn.conversation.messages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.agentfn.Futures;
import dev.agentfn.conversation.ConversationException;
import dev.agentfn.conversation.Deadline;
import dev.agentfn.conversation.Sleeper;
import dev.agentfn.conversation.Usage;
import dev.agentfn.conversation.messages.wire.Message;
import dev.agentfn.conversation.messages.wire.MessagesRequest;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Messages API client alone, against a JDK stub server that scripts each answer byte for byte: the headers and
 * body it sends, how it reads the event stream into a {@link Message}, when it retries (and how long it asks to
 * wait, through a {@link Sleeper} that records instead of sleeping), and how failures come out.
 */
class AnthropicClientTest {
    static final String KEY = "sk-ant-client-unit-key-0123456789";
    static final ObjectMapper JSON = new ObjectMapper();
    static Vertx vertx;

    Stub stub;
    final List<Duration> slept = new CopyOnWriteArrayList<>();
    final Sleeper sleeper = d -> {
        slept.add(d);
        return java.util.concurrent.CompletableFuture.completedFuture(null);
    };

    @BeforeAll
    static void vertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void closeVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @BeforeEach
    void startStub() throws IOException {
        stub = new Stub();
    }

    @AfterEach
    void stopStub() {
        stub.close();
    }

    // ---- what is sent -----------------------------------------------------------------------------------------

    @Test
    void anApiKeyGoesInXApiKeyWithTheVersionTheBetasJoinedAndTheBodyAsJson() throws Exception {
        stub.then(sse(textMessage("msg_1", "Hi")));
        AnthropicClient client = client(new AnthropicClient.Endpoint(URI.create(stub.base() + "/"), Optional.of(KEY),
                Optional.empty(), "2023-06-01", List.of("beta-a", "beta-b")), 2);
        MessagesRequest request = new MessagesRequest("claude-unit-1", 321, List.of(user("Hello?")),
                JSON.getNodeFactory().textNode("Be brief."), List.of(JSON.readTree(
                        "{\"name\":\"weather\",\"description\":\"w\",\"input_schema\":{\"type\":\"object\"}}")),
                List.of(), null, List.of("beta-b", "beta-c"));

        call(client, request, new Seen());

        Stub.Request sent = stub.only();
        assertEquals("POST", sent.method());
        assertEquals("/v1/messages", sent.path(), "the base URL's trailing slash is not doubled");
        assertEquals(KEY, sent.header("x-api-key"));
        assertNull(sent.header("authorization"));
        assertEquals("2023-06-01", sent.header("anthropic-version"));
        assertEquals("beta-a,beta-b,beta-c", sent.header("anthropic-beta"), "deployment betas first, no duplicate");
        assertEquals("application/json", sent.header("content-type"));
        assertEquals("text/event-stream", sent.header("accept"));
        assertEquals("0", sent.header("x-stainless-retry-count"));
        assertEquals(JSON.readTree("{\"model\":\"claude-unit-1\",\"max_tokens\":321,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello?\"}],\"system\":\"Be brief.\","
                + "\"tools\":[{\"name\":\"weather\",\"description\":\"w\",\"input_schema\":{\"type\":\"object\"}}],"
                + "\"stream\":true}"), JSON.readTree(sent.body()));
    }

    @Test
    void anAuthTokenGoesAsBearerWithoutAnApiKeyAndNoBetaHeaderWhenThereIsNone() throws Exception {
        stub.then(sse(textMessage("msg_1", "Hi")));
        AnthropicClient client = client(new AnthropicClient.Endpoint(URI.create(stub.base()), Optional.empty(),
                Optional.of("oauth-unit-token"), "2023-06-01", List.of()), 2);

        call(client, request(), new Seen());

        Stub.Request sent = stub.only();
        assertEquals("Bearer oauth-unit-token", sent.header("authorization"));
        assertNull(sent.header("x-api-key"));
        assertNull(sent.header("anthropic-beta"));
    }

    // ---- what is read -----------------------------------------------------------------------------------------

    @Test
    void theStreamBecomesAMessageWithTextToolInputAndTheUsageOfMessageDelta() throws Exception {
        stub.then(sse(List.of(
                event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_7\",\"type\":\"message\","
                        + "\"role\":\"assistant\",\"model\":\"claude-unit-1\",\"content\":[],\"stop_reason\":null,"
                        + "\"usage\":{\"input_tokens\":11,\"output_tokens\":1,\"cache_read_input_tokens\":3,"
                        + "\"cache_creation_input_tokens\":2}}}"),
                event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                        + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"),
                event("ping", "{\"type\":\"ping\"}"),
                delta(0, "text_delta", "text", "Hel"),
                delta(0, "text_delta", "text", "lo"),
                event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"),
                event("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,"
                        + "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"weather\",\"input\":{}}}"),
                delta(1, "input_json_delta", "partial_json", "{\\\"city\\\":"),
                delta(1, "input_json_delta", "partial_json", "\\\"Paris\\\"}"),
                event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}"),
                event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
                        + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}"),
                event("message_stop", "{\"type\":\"message_stop\"}"))));
        Seen seen = new Seen();

        AnthropicClient.CallResult result = call(client(2), request(), seen);

        Message m = result.message();
        assertEquals("msg_7", m.id());
        assertEquals("claude-unit-1", m.model());
        assertEquals("Hello", m.text());
        assertEquals("tool_use", m.stopReason());
        assertEquals(1, m.toolUses().size());
        assertEquals("toolu_1", m.toolUses().get(0).id());
        assertEquals(JSON.readTree("{\"city\":\"Paris\"}"), m.toolUses().get(0).input());
        assertEquals(new Usage(11, 42, 3, 2), m.usage(), "input from message_start, output from message_delta");
        assertEquals(List.of("Hel", "lo"), seen.deltas, "each text delta reaches the observer, in order");
        assertEquals(stub.only().answeredRequestId(), result.requestId());
        assertEquals(1, result.attempts());
        assertTrue(result.timeToFirstToken().compareTo(Duration.ZERO) > 0);
        assertTrue(slept.isEmpty());
    }

    // ---- retries ----------------------------------------------------------------------------------------------

    @Test
    void overloadedAndRateLimitedCallsAreRetriedHonouringRetryAfterAndTheBackoff() throws Exception {
        stub.then(error(529, "overloaded_error", "Overloaded", Map.of("retry-after", "2")))
                .then(error(429, "rate_limit_error", "Slow down", Map.of()))
                .then(sse(textMessage("msg_3", "at last")));
        Seen seen = new Seen();

        AnthropicClient.CallResult result = call(client(2), request(), seen);

        assertEquals("at last", result.message().text());
        assertEquals(3, result.attempts());
        assertEquals(List.of(Duration.ofSeconds(2), Duration.ofMillis(750)), slept,
                "the server's 2 s, then the second backoff step (1 s less the 25 % jitter)");
        assertEquals(List.of("1 529 overloaded_error PT2S", "2 429 rate_limit_error PT0.75S"), seen.retries);
        assertEquals(List.of("0", "1", "2"), stub.requests().stream().map(r -> r.header("x-stainless-retry-count")).toList());
        assertEquals(1, stub.requests().stream().map(Stub.Request::body).distinct().count(), "the same body each time");
    }

    @Test
    void serverErrorsAreRetriedUntilTheRetriesRunOutThenTheLastErrorComesBack() throws Exception {
        stub.then(error(500, "api_error", "Internal", Map.of()))
                .then(error(503, "api_error", "Unavailable", Map.of()))
                .then(error(529, "overloaded_error", "Still overloaded", Map.of("retry-after", "7")));

        ConversationException.Upstream e = upstream(client(2), new Seen());

        assertEquals(529, e.status());
        assertEquals("overloaded_error", e.errorType());
        assertEquals("Still overloaded", e.getMessage());
        assertEquals(Duration.ofSeconds(7), e.retryAfter(), "the caller learns when to come back");
        assertEquals(stub.requests().get(2).answeredRequestId(), e.requestId(), "the last attempt's request-id");
        assertEquals(3, stub.requests().size());
        assertEquals(List.of(Duration.ofMillis(375), Duration.ofMillis(750)), slept);
    }

    @Test
    void aBadRequestIsNotRetriedAndCarriesStatusTypeMessageAndRequestId() throws Exception {
        stub.then(error(400, "invalid_request_error", "max_tokens: too large", Map.of()));

        ConversationException.Upstream e = upstream(client(2), new Seen());

        assertEquals(400, e.status());
        assertEquals("invalid_request_error", e.errorType());
        assertEquals("max_tokens: too large", e.getMessage());
        assertEquals(stub.requests().get(0).answeredRequestId(), e.requestId());
        assertNull(e.retryAfter());
        assertEquals(1, stub.requests().size());
        assertTrue(slept.isEmpty());
    }

    @Test
    void xShouldRetryFalseStopsARetryTheStatusWouldAllow() throws Exception {
        stub.then(error(503, "api_error", "no", Map.of("x-should-retry", "false")));

        assertEquals(503, upstream(client(2), new Seen()).status());
        assertEquals(1, stub.requests().size());
    }

    @Test
    void anErrorPageThatIsNotJsonKeepsTheStatusAsItsMessage() throws Exception {
        stub.then(ex -> respond(ex, 502, "text/html", "<html>Bad gateway</html>", Map.of()));

        ConversationException.Upstream e = upstream(client(0), new Seen());

        assertEquals(502, e.status());
        assertEquals("api_error", e.errorType());
        assertEquals("HTTP 502", e.getMessage());
    }

    @Test
    void aStreamErrorBeforeAnythingWasRelayedIsRetried() throws Exception {
        stub.then(sse(partialThenError("overloaded_error", "Overloaded")))
                .then(sse(textMessage("msg_2", "second try")));
        Seen seen = new Seen(); // a caller that passes nothing on (an evaluation row): retries stay allowed

        AnthropicClient.CallResult result = call(client(2), request(), seen);

        assertEquals("second try", result.message().text());
        assertEquals(2, stub.requests().size());
        assertEquals(List.of("1 529 overloaded_error PT0.375S"), seen.retries, "an overloaded event counts as 529");
    }

    @Test
    void nothingIsRetriedOnceADeltaWasRelayedToTheCaller() throws Exception {
        stub.then(sse(partialThenError("overloaded_error", "Overloaded")))
                .then(sse(textMessage("msg_2", "must not be asked for")));
        Seen seen = new Seen();
        seen.relayOnDelta = true;

        ConversationException.Upstream e = upstream(client(2), seen);

        assertEquals(529, e.status());
        assertEquals("overloaded_error", e.errorType());
        assertEquals("Overloaded", e.getMessage());
        assertEquals(stub.only().answeredRequestId(), e.requestId());
        assertEquals(List.of("partial"), seen.deltas);
        assertEquals(1, stub.requests().size(), "a retry would repeat what the caller already saw");
        assertTrue(seen.retries.isEmpty());
    }

    @Test
    void aMalformedStreamIsNotRetried() throws Exception {
        stub.then(sse(List.of(event("message_start", "{not json"))))
                .then(sse(textMessage("msg_2", "must not be asked for")));

        ConversationException.Upstream e = upstream(client(2), new Seen());

        assertEquals("malformed_stream", e.errorType());
        assertTrue(e.getMessage().startsWith("unparseable stream event"), e.getMessage());
        assertEquals(1, stub.requests().size());
    }

    @Test
    void aStreamCutBeforeMessageStopIsAConnectionErrorAndIsRetried() throws Exception {
        List<String> cut = new ArrayList<>(textMessage("msg_1", "cut"));
        cut.remove(cut.size() - 1); // no message_stop
        stub.then(sse(cut)).then(sse(cut));

        ConversationException.Upstream e = upstream(client(1), new Seen());

        assertEquals(0, e.status());
        assertEquals("connection_error", e.errorType());
        assertEquals("the stream broke: stream ended before message_stop", e.getMessage());
        assertEquals(stub.requests().get(1).answeredRequestId(), e.requestId(), "the last attempt's request-id");
        assertEquals(2, stub.requests().size());
    }

    @Test
    void anUnreachableEndpointIsAConnectionError() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        AnthropicClient client = client(new AnthropicClient.Endpoint(URI.create("http://127.0.0.1:" + closedPort),
                Optional.of(KEY), Optional.empty(), "2023-06-01", List.of()), 0);

        ConversationException.Upstream e = upstream(client, new Seen());

        assertEquals(0, e.status());
        assertEquals("connection_error", e.errorType());
        assertTrue(e.getMessage().startsWith("could not reach the Messages API: "), e.getMessage());
    }

    // ---- the deadline -----------------------------------------------------------------------------------------

    @Test
    void aModelThatDoesNotAnswerBeforeTheDeadlineFailsTheCallAsDeadlineExceeded() throws Exception {
        stub.then(stub::hang);

        ExecutionException e = assertThrows(ExecutionException.class, () -> client(2)
                .call(request(), new Seen(), Deadline.after(Duration.ofMillis(50))).get(10, TimeUnit.SECONDS));

        ConversationException.DeadlineExceeded late = assertInstanceOf(ConversationException.DeadlineExceeded.class,
                Futures.unwrap(e));
        assertEquals("the invocation deadline passed while waiting for the model", late.getMessage());
    }

    @Test
    void aRetryThatWouldEndPastTheDeadlineIsNotMadeTheErrorComesBackInstead() throws Exception {
        stub.then(error(529, "overloaded_error", "Overloaded", Map.of("retry-after", "10")))
                .then(sse(textMessage("msg_2", "too late")));
        AtomicLong now = new AtomicLong(); // the clock stands still: 5 s remain throughout
        Deadline deadline = Deadline.after(Duration.ofSeconds(5), now::get);

        ExecutionException e = assertThrows(ExecutionException.class,
                () -> client(2).call(request(), new Seen(), deadline).get(10, TimeUnit.SECONDS));

        ConversationException.Upstream u = assertInstanceOf(ConversationException.Upstream.class, Futures.unwrap(e));
        assertEquals(529, u.status());
        assertEquals(Duration.ofSeconds(10), u.retryAfter());
        assertEquals(1, stub.requests().size());
        assertTrue(slept.isEmpty());
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private AnthropicClient client(int maxRetries) {
        return client(new AnthropicClient.Endpoint(URI.create(stub.base()), Optional.of(KEY), Optional.empty(),
                "2023-06-01", List.of()), maxRetries);
    }

    /** Jitter at its largest (25 % off), so backoff delays are exact: 375 ms, 750 ms, … */
    private AnthropicClient client(AnthropicClient.Endpoint endpoint, int maxRetries) {
        return new AnthropicClient(vertx, Duration.ofSeconds(5), JSON, endpoint,
                new RetryPolicy(maxRetries, Duration.ofSeconds(60), () -> 1.0), sleeper);
    }

    private static AnthropicClient.CallResult call(AnthropicClient client, MessagesRequest request,
            AnthropicClient.CallObserver observer) throws Exception {
        return client.call(request, observer, Deadline.after(Duration.ofSeconds(30))).get(10, TimeUnit.SECONDS);
    }

    private static ConversationException.Upstream upstream(AnthropicClient client, AnthropicClient.CallObserver observer) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> call(client, request(), observer));
        return assertInstanceOf(ConversationException.Upstream.class, Futures.unwrap(e));
    }

    private static MessagesRequest request() {
        return new MessagesRequest("claude-unit-1", 100, List.of(user("Hi")), null, List.of(), List.of(), null,
                List.of());
    }

    private static JsonNode user(String text) {
        return JSON.createObjectNode().put("role", "user").put("content", text);
    }

    /** What the client told its observer. */
    static final class Seen implements AnthropicClient.CallObserver {
        final List<String> deltas = new CopyOnWriteArrayList<>();
        final List<String> retries = new CopyOnWriteArrayList<>();
        /** A streaming caller: every delta is passed on at once. */
        volatile boolean relayOnDelta;
        volatile boolean relayed;

        @Override
        public void textDelta(String text) {
            deltas.add(text);
            relayed |= relayOnDelta;
        }

        @Override
        public void retry(int retry, int status, String errorType, Duration delay) {
            retries.add(retry + " " + status + " " + errorType + " " + delay);
        }

        @Override
        public boolean relayedAnything() {
            return relayed;
        }
    }

    // ---- scripted answers -------------------------------------------------------------------------------------

    static String event(String type, String data) {
        return "event: " + type + "\ndata: " + data + "\n\n";
    }

    static String delta(int index, String type, String field, String value) {
        return event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + index
                + ",\"delta\":{\"type\":\"" + type + "\",\"" + field + "\":\"" + value + "\"}}");
    }

    static List<String> textMessage(String id, String text) {
        return List.of(
                event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"" + id + "\",\"type\":"
                        + "\"message\",\"role\":\"assistant\",\"model\":\"claude-unit-1\",\"content\":[],"
                        + "\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}"),
                event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                        + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"),
                delta(0, "text_delta", "text", text),
                event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"),
                event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
                        + "\"usage\":{\"output_tokens\":3}}"),
                event("message_stop", "{\"type\":\"message_stop\"}"));
    }

    static List<String> partialThenError(String type, String message) {
        List<String> events = new ArrayList<>(textMessage("msg_partial", "partial").subList(0, 3));
        events.add(event("error", "{\"type\":\"error\",\"error\":{\"type\":\"" + type + "\",\"message\":\""
                + message + "\"}}"));
        return events;
    }

    /** A 200 event stream, one chunk per event. */
    static Stub.Answer sse(List<String> events) {
        return ex -> {
            ex.getResponseHeaders().set("content-type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                for (String e : events) {
                    out.write(e.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
        };
    }

    /** The real API's error body. */
    static Stub.Answer error(int status, String type, String message, Map<String, String> headers) {
        return ex -> respond(ex, status, "application/json", "{\"type\":\"error\",\"error\":{\"type\":\"" + type
                + "\",\"message\":\"" + message + "\"}}", headers);
    }

    static void respond(HttpExchange ex, int status, String contentType, String body, Map<String, String> headers)
            throws IOException {
        ex.getResponseHeaders().set("content-type", contentType);
        headers.forEach(ex.getResponseHeaders()::set);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** A JDK HTTP server that records every request and plays one scripted answer per request, in order. */
    static final class Stub implements AutoCloseable {
        interface Answer {
            void answer(HttpExchange ex) throws IOException;
        }

        /** One request as received, and the {@code request-id} it was answered with. */
        record Request(String method, String path, Map<String, String> headers, String body, String answeredRequestId) {
            String header(String name) {
                return headers.get(name.toLowerCase(Locale.ROOT));
            }
        }

        private static final AtomicLong IDS = new AtomicLong();
        private final HttpServer server;
        private final Queue<Answer> script = new ConcurrentLinkedQueue<>();
        private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
        private final CountDownLatch released = new CountDownLatch(1);

        Stub() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.setExecutor(Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "anthropic-client-test-stub");
                t.setDaemon(true);
                return t;
            }));
            server.createContext("/", this::handle);
            server.start();
        }

        /** Never answers until the stub closes: a model that takes too long. */
        void hang(HttpExchange ex) {
            try {
                released.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        String base() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        Stub then(Answer answer) {
            script.add(answer);
            return this;
        }

        List<Request> requests() {
            synchronized (requests) {
                return List.copyOf(requests);
            }
        }

        Request only() {
            List<Request> all = requests();
            assertEquals(1, all.size(), "requests: " + all);
            return all.get(0);
        }

        private void handle(HttpExchange ex) throws IOException {
            Map<String, String> headers = new TreeMap<>();
            ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(",", v)));
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            // every answer carries a request-id, as Anthropic's do; recorded before answering, so a test that
            // got its answer finds the request here
            String requestId = "req_stub_" + IDS.incrementAndGet();
            ex.getResponseHeaders().set("request-id", requestId);
            requests.add(new Request(ex.getRequestMethod(), ex.getRequestURI().toString(), headers, body, requestId));
            Answer answer = script.poll();
            try {
                if (answer == null) {
                    respond(ex, 500, "text/plain", "the test scripted no answer for this request", Map.of());
                } else {
                    answer.answer(ex);
                }
            } finally {
                ex.close();
            }
        }

        @Override
        public void close() {
            released.countDown();
            server.stop(0);
            ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        }
    }
}
