package dev.agentfn.standin;

import static dev.agentfn.standin.FakeHttp.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Turn queue, scenarios, recording, latency, HTTP control endpoints and CLI options. */
class FakeScriptTest extends FakeServerTestBase {
    @Test
    void turnsArePlayedInQueueOrderThenEchoDefault() {
        fake.enqueue(FakeTurn.text("first"), FakeTurn.text("second"));
        assertEquals("first", answer("a"));
        assertEquals("second", answer("b"));
        assertEquals("[local stand-in, not Claude] third question", answer("third question"));
    }

    @Test
    void requestsAreRecordedWithLowercasedHeadersAndParsedBody() {
        Instant before = Instant.now();
        long beforeNanos = System.nanoTime();
        String body = FakeHttp.body(true, "record me");
        FakeHttp.send(FakeHttp.messagesRequest(fake, "/v1/messages?beta=true", body)
                .header("X-Api-Key", "k").header("Anthropic-Version", "2023-06-01")
                .header("Anthropic-Beta", "a,b").build());

        RecordedRequest req = fake.requests().get(0);
        assertEquals("POST", req.method());
        assertEquals("/v1/messages?beta=true", req.path());
        assertEquals("k", req.headers().get("x-api-key"));
        assertEquals("a,b", req.header("ANTHROPIC-BETA"));
        assertEquals(body, req.body());
        assertEquals("record me", req.json().at("/messages/0/content").asText());
        assertTrue(!req.receivedAt().isBefore(before) && req.receivedNanos() >= beforeNanos);
        assertTrue(req.isMessages());
        assertEquals(1, fake.messageRequests().size());
    }

    @Test
    void resetClearsQueueAndRecordings() {
        fake.enqueue(FakeTurn.text("x"));
        FakeHttp.get(fake, "/api/hello");
        fake.reset();
        assertEquals(0, fake.pendingTurns());
        assertTrue(fake.requests().isEmpty());
    }

    @Test
    void toolLoopCallsFirstToolForNRoundsThenAnswers() {
        fake.scenario(Scenario.TOOL_LOOP).toolRounds(2);
        ObjectNode request = toolRequest();
        List<String> stopReasons = new ArrayList<>();
        JsonNode answer = null;
        for (int turn = 0; turn < 5; turn++) {
            answer = json(FakeHttp.messages(fake, request.toString()).body());
            stopReasons.add(answer.get("stop_reason").asText());
            if (!"tool_use".equals(answer.get("stop_reason").asText())) {
                break;
            }
            JsonNode call = answer.at("/content/0");
            assertEquals("get_weather", call.get("name").asText());
            assertEquals(json("{\"city\":\"example\",\"days\":1,\"unit\":\"c\"}"), call.get("input"));
            appendToolRound(request, answer, call.get("id").asText());
        }
        assertEquals(List.of("tool_use", "tool_use", "end_turn"), stopReasons);
        assertEquals("[local stand-in, not Claude] sunny", answer.at("/content/0/text").asText());
        assertEquals(3, fake.messageRequests().size());
    }

    @Test
    void perTurnLatencyDelaysFirstByte() throws Exception {
        fake.enqueue(FakeTurn.text("slow").withLatency(Duration.ofMillis(300)));
        long start = System.nanoTime();
        HttpResponse<InputStream> response = FakeHttp.CLIENT.send(FakeHttp.messagesRequest(fake, "/v1/messages",
                FakeHttp.body(true, "Q")).header("x-api-key", "k").header("anthropic-version", "v").build(),
                HttpResponse.BodyHandlers.ofInputStream());
        long headersAfterMs = (System.nanoTime() - start) / 1_000_000;
        response.body().close();
        assertTrue(headersAfterMs >= 300, "headers after " + headersAfterMs + " ms");
    }

    @Test
    void defaultLatencyOverlapsAcrossConcurrentRequests() {
        fake.defaultLatency(Duration.ofMillis(400));
        // Own pool: the common pool has a single thread on a 2-core machine and would serialize.
        ExecutorService clients = Executors.newFixedThreadPool(6);
        long start = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> FakeHttp.messages(fake, FakeHttp.body(false, "Q")), clients));
        }
        calls.forEach(c -> assertEquals(200, c.join().statusCode()));
        clients.shutdown();
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        // The latency is honoured; how well requests overlap is measured by the benchmarks, not asserted here.
        assertTrue(elapsedMs >= 400, "elapsed " + elapsedMs + " ms");
        assertEquals(6, fake.messageRequests().size());
    }

    @Test
    void aRequestWaitingOnTheModelHoldsNoThread() throws Exception {
        try (FakeAnthropicServer single = new FakeAnthropicServer(1).start(0)) {
            single.defaultLatency(Duration.ofMinutes(5));
            CompletableFuture<HttpResponse<String>> waiting = FakeHttp.CLIENT.sendAsync(FakeHttp.messagesRequest(single,
                    "/v1/messages", FakeHttp.body(true, "Q")).header("x-api-key", "k").header("anthropic-version", "v")
                    .timeout(Duration.ofMinutes(6)).build(), HttpResponse.BodyHandlers.ofString());
            while (single.messageRequests().isEmpty()) {
                Thread.sleep(10);
            }
            // with a sleeping request thread, this call would queue behind the 5-minute "model" (and time out)
            HttpResponse<String> config = FakeHttp.send(HttpRequest.newBuilder(URI.create(single.baseUrl() + "/_fake/config"))
                    .timeout(Duration.ofSeconds(10)).GET().build());
            assertEquals(200, config.statusCode());
            assertFalse(waiting.isDone());
            single.defaultLatency(Duration.ZERO);
            assertEquals(200, FakeHttp.messages(single, FakeHttp.body(false, "Q")).statusCode());
        }
    }

    @Test
    void keepsOnlyTheNewestRequestsUpToTheLimit() {
        fake.recordLimit(3);
        for (int i = 1; i <= 5; i++) {
            assertEquals(200, FakeHttp.messages(fake, FakeHttp.body(false, "Q" + i)).statusCode());
        }
        assertEquals(List.of("Q3", "Q4", "Q5"), fake.messageRequests().stream()
                .map(r -> r.json().at("/messages/0/content").asText()).toList());
        JsonNode config = json(FakeHttp.get(fake, "/_fake/config").body());
        assertEquals(3, config.get("recorded_requests").asInt());
        assertEquals(5, config.get("received_requests").asInt(), "every request is counted, kept or not");
        fake.reset();
        assertEquals(0, fake.receivedRequests());
        assertTrue(fake.requests().isEmpty());
        assertEquals(200, FakeHttp.messages(fake, FakeHttp.body(false, "Q6")).statusCode());
        assertEquals(1, fake.requests().size(), "the count restarts after a reset");
    }

    @Test
    void controlEndpointsScriptInspectAndConfigure() {
        String turns = "[{\"type\":\"text\",\"text\":\"scripted\",\"stop_reason\":\"refusal\"},"
                + "{\"type\":\"error\",\"status\":529,\"headers\":{\"retry-after\":\"1\"}},"
                + "{\"type\":\"tool_use\",\"calls\":[{\"id\":\"toolu_x\",\"name\":\"t\",\"input\":{\"a\":1}}]}]";
        assertEquals(3, json(FakeHttp.post(fake, "/_fake/turns", turns).body()).get("queued").asInt());

        JsonNode first = json(FakeHttp.messages(fake, FakeHttp.body(false, "Q")).body());
        assertEquals("refusal", first.get("stop_reason").asText());
        HttpResponse<String> second = FakeHttp.messages(fake, FakeHttp.body(false, "Q"));
        assertEquals(529, second.statusCode());
        assertEquals("overloaded_error", json(second.body()).at("/error/type").asText());
        assertEquals("1", second.headers().firstValue("retry-after").orElseThrow());
        JsonNode third = json(FakeHttp.messages(fake, FakeHttp.body(false, "Q")).body());
        assertEquals(json("{\"type\":\"tool_use\",\"id\":\"toolu_x\",\"name\":\"t\",\"input\":{\"a\":1}}"),
                third.at("/content/0"));

        ArrayNode recorded = FakeHttp.array(FakeHttp.get(fake, "/_fake/requests").body());
        assertEquals(3, recorded.size(), "control calls are not recorded");
        assertEquals("/v1/messages", recorded.get(0).get("path").asText());
        assertEquals("test-key", recorded.get(0).at("/headers/x-api-key").asText());
        assertEquals("Q", recorded.get(0).at("/json/messages/0/content").asText());

        JsonNode config = json(FakeHttp.post(fake, "/_fake/config",
                "{\"latency_ms\":5,\"scenario\":\"tool-loop\",\"tool_rounds\":3}").body());
        assertEquals(json("{\"latency_ms\":5,\"latency_jitter_ms\":0,\"scenario\":\"tool-loop\",\"tool_rounds\":3,"
                + "\"pending_turns\":0,\"recorded_requests\":3,\"received_requests\":3}"), config);
        assertEquals(Scenario.TOOL_LOOP, fake.scenario());
        assertEquals(Duration.ofMillis(5), fake.defaultLatency());

        FakeHttp.post(fake, "/_fake/reset", "");
        assertEquals("[]", FakeHttp.get(fake, "/_fake/requests").body());
    }

    @Test
    void latencyJitterDrawsTheSameLatenciesAgainForTheSameSeedAndTheAnswerNamesItsDraw() {
        JsonNode config = json(FakeHttp.post(fake, "/_fake/config",
                "{\"latency_ms\":20,\"latency_jitter_ms\":30,\"jitter_seed\":7}").body());
        assertEquals(30, config.get("latency_jitter_ms").asInt());
        List<Long> first = drawJitter(50);
        first.forEach(ms -> assertTrue(ms >= 0 && ms <= 30, "draw " + ms));
        assertTrue(first.stream().distinct().count() > 10, "the draws vary: " + first);

        FakeHttp.post(fake, "/_fake/config", "{\"jitter_seed\":7}");
        assertEquals(first, drawJitter(50), "the same seed draws the same sequence, and the jitter is kept");

        FakeHttp.post(fake, "/_fake/config", "{\"jitter_seed\":7}");
        long start = System.nanoTime();
        HttpResponse<String> answer = FakeHttp.messages(fake, FakeHttp.body(false, "Q"));
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(200, answer.statusCode());
        assertEquals(Long.toString(first.get(0)), answer.headers().firstValue("x-fake-jitter-ms").orElseThrow());
        assertTrue(tookMs >= 20 + first.get(0), "the answer waited the latency and its draw: " + tookMs + " ms");

        FakeHttp.post(fake, "/_fake/config", "{\"latency_jitter_ms\":0}");
        assertNull(fake.drawJitter(), "no jitter, no draw");
        assertTrue(FakeHttp.messages(fake, FakeHttp.body(false, "Q")).headers().firstValue("x-fake-jitter-ms").isEmpty(),
                "no jitter, no header");
    }

    private List<Long> drawJitter(int n) {
        return IntStream.range(0, n).mapToObj(i -> fake.drawJitter().toMillis()).toList();
    }

    @Test
    void controlEndpointRejectsBadTurnJson() {
        HttpResponse<String> response = FakeHttp.post(fake, "/_fake/turns", "[{\"type\":\"nope\"}]");
        assertEquals(400, response.statusCode());
        assertEquals(0, fake.pendingTurns());
        assertEquals(400, FakeHttp.post(fake, "/_fake/turns", "{oops").statusCode());
    }

    @Test
    void turnJsonCoversFailureShapes() {
        List<FakeTurn> turns = TurnJson.parseTurns(json("[{\"type\":\"mid_stream_error\","
                + "\"error_type\":\"api_error\",\"message\":\"boom\",\"after_blocks\":2,\"latency_ms\":10},"
                + "{\"type\":\"drop_connection\",\"after_blocks\":1},"
                + "{\"type\":\"reply\",\"stop_reason\":\"pause_turn\",\"thinking\":\"t\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}],"
                + "\"usage\":{\"input_tokens\":9,\"output_tokens\":8}}]"));
        FakeTurn.MidStreamError failure = (FakeTurn.MidStreamError) turns.get(0);
        assertEquals(2, failure.afterBlocks());
        assertEquals(Duration.ofMillis(10), failure.latency());
        assertEquals(1, ((FakeTurn.DropConnection) turns.get(1)).afterBlocks());
        FakeTurn.Reply reply = (FakeTurn.Reply) turns.get(2);
        assertEquals("pause_turn", reply.stopReason());
        assertTrue(reply.content().get(0) instanceof FakeBlock.Thinking);
        assertEquals(FakeUsage.of(9, 8), reply.usage());
        assertNull(reply.latency());
    }

    @Test
    void cliOptionsPreferArgsThenEnvThenDefaults() {
        CliOptions fromArgs = CliOptions.parse(new String[] {"--port", "9001", "--latency-ms", "2000",
            "--scenario", "tool-loop"}, Map.of("FAKE_ANTHROPIC_PORT", "9002", "FAKE_ANTHROPIC_THREADS", "64",
            "FAKE_ANTHROPIC_RECORD_LIMIT", "100"));
        assertEquals(new CliOptions(9001, 2000, Scenario.TOOL_LOOP, 2, 64, 100), fromArgs);
        CliOptions defaults = CliOptions.parse(new String[0], Map.of());
        assertEquals(new CliOptions(8089, 0, Scenario.ECHO, 2, 512, 10_000), defaults);
        assertThrows(IllegalArgumentException.class, () -> CliOptions.parse(new String[] {"--prot", "1"}, Map.of()));
    }

    private String answer(String question) {
        HttpResponse<String> response = FakeHttp.messages(fake, FakeHttp.body(false, question));
        assertEquals(200, response.statusCode(), response.body());
        return json(response.body()).at("/content/0/text").asText();
    }

    /** A conversation declaring one tool with required string, integer and enum properties. */
    private static ObjectNode toolRequest() {
        ObjectNode request = (ObjectNode) json(FakeHttp.body(false, "Weather in Paris?"));
        request.putArray("tools").add(json("{\"name\":\"get_weather\",\"description\":\"d\",\"input_schema\":"
                + "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"days\":{\"type\":\"integer\"},"
                + "\"unit\":{\"type\":\"string\",\"enum\":[\"c\",\"f\"]},\"note\":{\"type\":\"string\"}},"
                + "\"required\":[\"city\",\"days\",\"unit\"]}}"));
        return request;
    }

    /** Appends the assistant turn, a CLI-style system note, and the tool_result user turn. */
    private static void appendToolRound(ObjectNode request, JsonNode answer, String toolUseId) {
        ArrayNode messages = (ArrayNode) request.get("messages");
        messages.addObject().put("role", "assistant").set("content", answer.get("content"));
        messages.addObject().put("role", "system").put("content", "environment note");
        ObjectNode result = messages.addObject().put("role", "user").putArray("content").addObject();
        result.put("type", "tool_result").put("tool_use_id", toolUseId).put("content", "sunny");
    }
}
