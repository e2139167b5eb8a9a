package dev.agentfn.conversation.messages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.agentfn.Futures;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.conversation.ConversationException;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.conversation.ConversationResult;
import dev.agentfn.conversation.Deadline;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.conversation.Sleeper;
import dev.agentfn.conversation.Usage;
import dev.agentfn.conversation.tools.ToolCatalog;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanEvent;
import dev.agentfn.mlflow.entities.SpanStatus;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeBlock;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.standin.RecordedRequest;
import dev.agentfn.standin.ToolCall;
import dev.agentfn.testing.StubHttp;
import dev.agentfn.testing.UnitConfig;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.AttributePolicy;
import dev.agentfn.tracing.SpanClock;
import dev.agentfn.tracing.Tracer;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Messages API tool loop without Quarkus: a real {@link AnthropicClient} on a standalone Vert.x against the
 * project's fake Messages API in process, HTTP tools served by a JDK stub, and the trace read from the
 * {@link ActiveTrace} the engine recorded into. What is asserted is what the model was sent, what the caller gets
 * back, and what the trace says.
 */
class MessagesEngineTest {
    static final String KEY = "sk-ant-engine-unit-key-0123456789";
    static final String MODEL = "claude-unit-1";
    static final ObjectMapper JSON = new ObjectMapper();

    static Vertx vertx;
    static FakeAnthropicServer fake;
    static HttpServer toolServer;
    static final List<String> toolCalls = new CopyOnWriteArrayList<>();
    static ToolCatalog catalog;
    static Pricing pricing;

    final List<Duration> slept = new CopyOnWriteArrayList<>();
    final Tracer tracer = new Tracer(SpanClock.SYSTEM, new AttributePolicy(true, 10_000, List.of(), List.of()), false);
    MessagesEngine engine;

    @BeforeAll
    static void servers() throws IOException {
        vertx = Vertx.vertx();
        fake = new FakeAnthropicServer(8).start(0);
        toolServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        toolServer.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "messages-engine-test-tools");
            t.setDaemon(true);
            return t;
        }));
        toolServer.createContext("/weather", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            toolCalls.add("weather " + body);
            String city = JSON.readTree(body).path("city").asText();
            StubHttp.respond(ex, 200, "{\"city\":\"" + city + "\",\"temp_c\":21}");
        });
        toolServer.createContext("/broken", ex -> {
            toolCalls.add("broken " + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            StubHttp.respond(ex, 500, "boom");
        });
        toolServer.start();
        String tools = "http://127.0.0.1:" + toolServer.getAddress().getPort();
        AgentfnConfig config = UnitConfig.of(Map.ofEntries(
                Map.entry("agentfn.tools.http.weather.url", tools + "/weather"),
                Map.entry("agentfn.tools.http.weather.description", "Current weather for a city"),
                Map.entry("agentfn.tools.http.weather.input-schema",
                        "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"),
                Map.entry("agentfn.tools.http.broken.url", tools + "/broken"),
                Map.entry("agentfn.tools.http.broken.description", "Always fails"),
                Map.entry("agentfn.tools.server.search.type", "web_search_20250305"),
                Map.entry("agentfn.tools.allowed-hosts", "127.0.0.1"),
                Map.entry("agentfn.prices.\"" + MODEL + "\".input", "3"),
                Map.entry("agentfn.prices.\"" + MODEL + "\".output", "15"),
                Map.entry("agentfn.prices.\"" + MODEL + "\".cache-write", "3.75"),
                Map.entry("agentfn.prices.\"" + MODEL + "\".cache-read", "0.30")));
        catalog = new ToolCatalog(config.tools(), () -> HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER).build(), JSON);
        pricing = new Pricing(config);
    }

    @AfterAll
    static void stopServers() throws Exception {
        fake.close();
        toolServer.stop(0);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @BeforeEach
    void engine() {
        fake.reset();
        toolCalls.clear();
        Sleeper sleeper = d -> {
            slept.add(d);
            return CompletableFuture.completedFuture(null);
        };
        AnthropicClient client = new AnthropicClient(vertx, Duration.ofSeconds(5), JSON,
                new AnthropicClient.Endpoint(URI.create(fake.baseUrl()), Optional.of(KEY), Optional.empty(),
                        "2023-06-01", List.of()),
                new RetryPolicy(2, Duration.ofSeconds(60), () -> 1.0), sleeper);
        engine = new MessagesEngine(client, catalog, pricing, JSON);
    }

    // ---- the tool loop ----------------------------------------------------------------------------------------

    @Test
    void aToolCallIsRunAndItsResultSentBackThenTheAnswerEndsTheConversation() throws Exception {
        fake.enqueue(FakeTurn.toolUse("Let me check.", new ToolCall("toolu_w1", "weather", Map.of("city", "Paris")))
                        .withUsage(100, 20, 5, 7),
                FakeTurn.text("It is 21 C in Paris.").withUsage(150, 30, 0, 0));
        Events events = new Events();
        ActiveTrace trace = trace();

        ConversationResult r = run(request("Weather in Paris?", 5, List.of("weather")), trace, events);

        // what the caller gets
        assertEquals("It is 21 C in Paris.", r.output());
        assertEquals("end_turn", r.stopReason());
        assertEquals(2, r.turns());
        assertEquals(new Usage(250, 50, 5, 7), r.usage(), "summed over both model calls");
        assertEquals(MODEL, r.model());
        assertEquals("s-1", r.sessionId());
        Pricing.Cost first = new Pricing.Cost((100 * 3 + 7 * 3.75 + 5 * 0.30) / 1e6, 20 * 15 / 1e6);
        Pricing.Cost second = new Pricing.Cost(150 * 3 / 1e6, 30 * 15 / 1e6);
        assertEquals(first.inputUsd() + second.inputUsd(), r.cost().inputUsd(), 1e-12);
        assertEquals(first.outputUsd() + second.outputUsd(), r.cost().outputUsd(), 1e-12);
        assertEquals(JSON.readTree("[{\"type\":\"text\",\"text\":\"It is 21 C in Paris.\"}]"), r.content());

        // what the model was sent
        List<RecordedRequest> sent = fake.messageRequests();
        assertEquals(2, sent.size());
        assertEquals(KEY, sent.get(0).header("x-api-key"));
        assertEquals("2023-06-01", sent.get(0).header("anthropic-version"));
        JsonNode firstBody = sent.get(0).json();
        assertEquals(JSON.readTree("{\"model\":\"" + MODEL + "\",\"max_tokens\":512,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}],\"system\":\"Be brief.\","
                + "\"tools\":[{\"name\":\"weather\",\"description\":\"Current weather for a city\","
                + "\"input_schema\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}],"
                + "\"stream\":true}"), firstBody);
        JsonNode secondBody = sent.get(1).json();
        assertEquals(firstBody.get("tools"), secondBody.get("tools"));
        assertEquals(firstBody.get("system"), secondBody.get("system"));
        assertEquals(JSON.readTree("[{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
                + "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Let me check.\"},"
                + "{\"type\":\"tool_use\",\"id\":\"toolu_w1\",\"name\":\"weather\",\"input\":{\"city\":\"Paris\"}}]},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_w1\","
                + "\"content\":\"{\\\"city\\\":\\\"Paris\\\",\\\"temp_c\\\":21}\"}]}]"), secondBody.get("messages"),
                "the assistant turn verbatim, then one user turn with the tool's result");
        assertEquals(List.of("weather {\"city\":\"Paris\"}"), toolCalls);

        // what the streaming caller heard, in conversation order
        int call = events.all.indexOf("call toolu_w1 weather {\"city\":\"Paris\"}");
        int result = events.all.indexOf("result toolu_w1 weather false {\"city\":\"Paris\",\"temp_c\":21}");
        assertTrue(call > 0 && result == call + 1, events.all.toString());
        assertEquals("Let me check.", events.text(0, call));
        assertEquals("It is 21 C in Paris.", events.text(result + 1, events.all.size()));
        assertTrue(events.all.size() > 4, "text arrives in pieces as it streams: " + events.all);

        // what the trace says
        Trace t = trace.finish();
        SpanData root = t.spans().stream().filter(SpanData::isRoot).findFirst().orElseThrow();
        List<SpanData> children = byStart(t.spans().stream().filter(s -> !s.isRoot()).toList());
        assertEquals(List.of("Messages.create", "tool_weather", "Messages.create"),
                children.stream().map(SpanData::name).toList());
        children.forEach(s -> assertEquals(root.spanId(), s.parentSpanId(), s.name() + " is a child of the root"));
        SpanData llm1 = children.get(0);
        SpanData tool = children.get(1);
        SpanData llm2 = children.get(2);
        assertEquals(MlflowKeys.SpanType.CHAT_MODEL, llm1.attributes().get(MlflowKeys.Span.TYPE));
        assertEquals(Map.of("input_tokens", 112L, "output_tokens", 20L, "total_tokens", 132L,
                "cache_read_input_tokens", 5L, "cache_creation_input_tokens", 7L),
                llm1.attributes().get(MlflowKeys.Span.TOKEN_USAGE), "input tokens include the cached ones");
        assertEquals(Map.of("input_tokens", 150L, "output_tokens", 30L, "total_tokens", 180L,
                "cache_read_input_tokens", 0L, "cache_creation_input_tokens", 0L),
                llm2.attributes().get(MlflowKeys.Span.TOKEN_USAGE));
        assertEquals(first.totalUsd(), (Double) ((Map<?, ?>) llm1.attributes().get(MlflowKeys.Span.LLM_COST))
                .get("total_cost"), 1e-12);
        assertEquals(List.of("tool_use"), llm1.attributes().get(MlflowKeys.GenAi.RESPONSE_FINISH_REASONS));
        assertEquals(List.of("end_turn"), llm2.attributes().get(MlflowKeys.GenAi.RESPONSE_FINISH_REASONS));
        assertEquals(MODEL, llm1.attributes().get(MlflowKeys.GenAi.REQUEST_MODEL));
        assertEquals(1, llm1.attributes().get("agentfn.attempts"));
        assertEquals(3, ((List<?>) ((Map<?, ?>) llm2.attributes().get(MlflowKeys.Span.INPUTS)).get("messages")).size(),
                "the second call's inputs hold the whole conversation so far");
        assertEquals(MlflowKeys.SpanType.TOOL, tool.attributes().get(MlflowKeys.Span.TYPE));
        assertEquals(Map.of("city", "Paris"), tool.attributes().get(MlflowKeys.Span.INPUTS));
        assertEquals(Map.of("result", Map.of("city", "Paris", "temp_c", 21)), tool.attributes().get(MlflowKeys.Span.OUTPUTS));
        assertEquals(false, tool.attributes().get("tool.is_error"));
        assertEquals("toolu_w1", tool.attributes().get(MlflowKeys.GenAi.TOOL_CALL_ID));
        assertEquals(SpanStatus.Code.OK, tool.status().code());
        assertTrue(tool.startTimeUnixNano() >= llm1.endTimeUnixNano() && llm2.startTimeUnixNano() >= tool.endTimeUnixNano(),
                "the tool runs between the two model calls");
    }

    @Test
    void aFailingToolAndAToolNotOfferedBecomeErrorResultsInTheOrderOfTheCalls() throws Exception {
        fake.enqueue(FakeTurn.toolUse(null, new ToolCall("toolu_b", "broken", Map.of("x", 1)),
                        new ToolCall("toolu_n", "weather", Map.of("city", "Oslo"))),
                FakeTurn.text("Both failed."));
        Events events = new Events();
        ActiveTrace trace = trace();

        ConversationResult r = run(request("Try", 5, List.of("broken")), trace, events);

        assertEquals("Both failed.", r.output());
        assertEquals(List.of("broken {\"x\":1}"), toolCalls, "a tool the conversation was not offered never runs");
        JsonNode results = fake.messageRequests().get(1).json().at("/messages/2/content");
        assertEquals(JSON.readTree("[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_b\","
                + "\"content\":\"tool broken answered HTTP 500: boom\",\"is_error\":true},"
                + "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_n\","
                + "\"content\":\"tool weather is not available in this conversation\",\"is_error\":true}]"), results);
        assertTrue(events.all.contains("result toolu_b broken true tool broken answered HTTP 500: boom"), events.all.toString());

        Trace t = trace.finish();
        SpanData broken = span(t, "tool_broken");
        assertEquals(SpanStatus.Code.ERROR, broken.status().code());
        assertEquals("ToolError: tool broken answered HTTP 500: boom", broken.status().message());
        assertEquals(true, broken.attributes().get("tool.is_error"));
        assertEquals(Map.of("result", "tool broken answered HTTP 500: boom"), broken.attributes().get(MlflowKeys.Span.OUTPUTS));
        assertEquals(List.of("exception"), broken.events().stream().map(SpanEvent::name).toList());
        assertEquals(SpanStatus.Code.ERROR, span(t, "tool_weather").status().code());
    }

    @Test
    void theTurnLimitEndsTheConversationBeforeTheToolsRun() throws Exception {
        fake.enqueue(FakeTurn.toolUse("Checking.", new ToolCall("toolu_1", "weather", Map.of("city", "Rome"))));

        ConversationResult r = run(request("Weather?", 1, List.of("weather")), trace(), new Events());

        assertEquals("max_turns", r.stopReason());
        assertEquals(1, r.turns());
        assertEquals("Checking.", r.output());
        assertEquals(1, fake.messageRequests().size());
        assertTrue(toolCalls.isEmpty());
    }

    @Test
    void aPausedTurnIsSentAgainWithTheAssistantTurnAndNoNewUserTurn() throws Exception {
        fake.enqueue(FakeTurn.text("Searching").withStopReason("pause_turn"), FakeTurn.text("Found it."));

        ConversationResult r = run(request("Search", 5, List.of()), trace(), new Events());

        assertEquals("Found it.", r.output());
        assertEquals(2, r.turns());
        assertEquals(JSON.readTree("[{\"role\":\"user\",\"content\":\"Search\"},{\"role\":\"assistant\","
                + "\"content\":[{\"type\":\"text\",\"text\":\"Searching\"}]}]"),
                fake.messageRequests().get(1).json().get("messages"));
        assertNull(fake.messageRequests().get(0).json().get("tools"), "no tools asked for, none offered");
    }

    @Test
    void aServerToolUseIsRecordedAsAToolSpanUnderItsModelCall() throws Exception {
        fake.enqueue(FakeTurn.reply("end_turn",
                FakeBlock.raw((com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree("{\"type\":"
                        + "\"server_tool_use\",\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{\"query\":\"jdk\"}}")),
                FakeBlock.raw((com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree("{\"type\":"
                        + "\"web_search_tool_result\",\"tool_use_id\":\"srvtoolu_1\",\"content\":[{\"type\":"
                        + "\"web_search_result\",\"url\":\"https://openjdk.org\",\"title\":\"OpenJDK\"}]}")),
                FakeBlock.text("OpenJDK it is.")));
        ActiveTrace trace = trace();

        ConversationResult r = run(request("Search jdk", 5, List.of("search")), trace, new Events());

        assertEquals("OpenJDK it is.", r.output());
        assertEquals(JSON.readTree("[{\"type\":\"web_search_20250305\",\"name\":\"search\"}]"),
                fake.messageRequests().get(0).json().get("tools"));
        Trace t = trace.finish();
        SpanData llm = span(t, "Messages.create");
        SpanData search = span(t, "tool_web_search");
        assertEquals(llm.spanId(), search.parentSpanId(), "Anthropic ran it inside the model call");
        assertEquals(Map.of("query", "jdk"), search.attributes().get(MlflowKeys.Span.INPUTS));
        assertEquals(Map.of("result", List.of(Map.of("type", "web_search_result", "url", "https://openjdk.org",
                "title", "OpenJDK"))), search.attributes().get(MlflowKeys.Span.OUTPUTS));
        assertEquals("server_tool_use", search.attributes().get(MlflowKeys.GenAi.TOOL_TYPE));
    }

    // ---- failures ---------------------------------------------------------------------------------------------

    @Test
    void aModelErrorFailsTheRunAsUpstreamAndMarksItsSpan() throws Exception {
        fake.enqueue(FakeTurn.error(400, "invalid_request_error", "prompt is too long", Map.of()));
        ActiveTrace trace = trace();

        ConversationException.Upstream e = failure(ConversationException.Upstream.class,
                request("Hi", 5, List.of()), trace, new Events());

        assertEquals(400, e.status());
        assertEquals("invalid_request_error", e.errorType());
        assertEquals("prompt is too long", e.getMessage());
        assertTrue(e.requestId() != null && e.requestId().startsWith("req_"), e.requestId());
        assertEquals(1, fake.messageRequests().size(), "a 400 is not retried");
        SpanData llm = span(trace.finish(), "Messages.create");
        assertEquals(SpanStatus.Code.ERROR, llm.status().code());
        assertEquals("invalid_request_error: prompt is too long", llm.status().message());
        assertEquals(e.requestId(), llm.attributes().get("anthropic.request_id"));
    }

    @Test
    void anOverloadedCallIsRetriedAfterTheServersDelayAndTheRetryIsOnItsSpan() throws Exception {
        fake.enqueue(FakeTurn.error(529, "overloaded_error", "Overloaded", Map.of("retry-after", "1")),
                FakeTurn.text("Back."));
        ActiveTrace trace = trace();

        ConversationResult r = run(request("Hi", 5, List.of()), trace, new Events());

        assertEquals("Back.", r.output());
        assertEquals(1, r.turns(), "a retried call is still one turn");
        assertEquals(List.of(Duration.ofSeconds(1)), slept);
        SpanData llm = span(trace.finish(), "Messages.create");
        assertEquals(2, llm.attributes().get("agentfn.attempts"));
        assertEquals(List.of("retry"), llm.events().stream().map(SpanEvent::name).toList());
        assertEquals(Map.of("retry", 1, "http.status_code", 529, "error.type", "overloaded_error", "delay_ms", 1000L),
                llm.events().get(0).attributes());
    }

    @Test
    void aStreamingCallerThatHeardTextKeepsAFailedCallFromBeingRetried() throws Exception {
        fake.enqueue(FakeTurn.midStreamError("overloaded_error", "Overloaded", 1), FakeTurn.text("retried"));
        ConversationResult silent = run(request("Hi", 5, List.of()), trace(), ConversationListener.NONE);
        assertEquals("retried", silent.output(), "nothing reached a silent caller: the call is retried");

        fake.reset();
        fake.enqueue(FakeTurn.midStreamError("overloaded_error", "Overloaded", 1), FakeTurn.text("never asked"));
        Events streaming = new Events();
        ConversationException.Upstream e = failure(ConversationException.Upstream.class,
                request("Hi", 5, List.of()), trace(), streaming);

        assertEquals("overloaded_error", e.errorType());
        assertEquals("partial block 1", streaming.text(0, streaming.all.size()), "the text it already relayed");
        assertEquals(1, fake.messageRequests().size(), "a retry would repeat what the caller already heard");
    }

    @Test
    void theDeadlinePassingDuringAToolCallStopsTheNextTurn() throws Exception {
        fake.enqueue(FakeTurn.toolUse(null, new ToolCall("toolu_1", "weather", Map.of("city", "Lima"))),
                FakeTurn.text("never asked"));
        AtomicLong now = new AtomicLong();
        Deadline deadline = Deadline.after(Duration.ofSeconds(30), now::get);
        Events events = new Events() {
            @Override
            public void toolResult(String toolUseId, String name, String content, boolean isError) {
                super.toolResult(toolUseId, name, content, isError);
                now.addAndGet(Duration.ofSeconds(31).toNanos()); // the tool took longer than the budget left
            }
        };

        ConversationException.DeadlineExceeded e = failure(ConversationException.DeadlineExceeded.class,
                new ConversationRequest(List.of(user("Weather?")), null, MODEL, 512, 5, List.of("weather"), "s-1",
                        "u-1", deadline), trace(), events);

        assertEquals("the invocation deadline passed between turns", e.getMessage());
        assertEquals(1, fake.messageRequests().size());
        assertEquals(1, toolCalls.size());
    }

    // ---- admit ------------------------------------------------------------------------------------------------

    @Test
    void admitOffersTheWholeCatalogueByDefaultAnySubsetOnRequestAndRefusesUnknownNames() {
        List<JsonNode> history = List.of(user("Hi"));
        assertEquals(Set.of("weather", "broken", "search"), Set.copyOf(engine.admit(history, null)));
        assertEquals(catalog.names(), engine.admit(history, null));
        assertEquals(List.of("search", "weather"), engine.admit(history, List.of("search", "weather")));
        assertEquals(List.of(), engine.admit(history, List.of()));

        ConversationException.InvalidRequest e = assertThrows(ConversationException.InvalidRequest.class,
                () -> engine.admit(history, List.of("weather", "rm_rf", "nope")));
        assertEquals("unknown tools [nope, rm_rf]; this deployment offers " + catalog.names(), e.getMessage());
        assertEquals(0, fake.requests().size(), "admitting asks nobody");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private ActiveTrace trace() {
        return tracer.start("agent_invocation", MlflowKeys.SpanType.AGENT, Optional.empty());
    }

    private ConversationResult run(ConversationRequest request, ActiveTrace trace, ConversationListener listener)
            throws Exception {
        return engine.run(request, trace, listener).get(20, TimeUnit.SECONDS);
    }

    private <T extends Throwable> T failure(Class<T> type, ConversationRequest request, ActiveTrace trace,
            ConversationListener listener) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> run(request, trace, listener));
        return assertInstanceOf(type, Futures.unwrap(e));
    }

    private static ConversationRequest request(String prompt, int maxTurns, List<String> tools) {
        return new ConversationRequest(List.of(user(prompt)), JSON.getNodeFactory().textNode("Be brief."), MODEL, 512,
                maxTurns, tools, "s-1", "u-1", Deadline.after(Duration.ofSeconds(30)));
    }

    private static JsonNode user(String text) {
        return JSON.createObjectNode().put("role", "user").put("content", text);
    }

    private static List<SpanData> byStart(List<SpanData> spans) {
        List<SpanData> sorted = new ArrayList<>(spans);
        sorted.sort(Comparator.comparingLong(SpanData::startTimeUnixNano));
        return sorted;
    }

    private static SpanData span(Trace t, String name) {
        List<SpanData> named = t.spans().stream().filter(s -> s.name().equals(name)).toList();
        assertEquals(1, named.size(), name + " in " + t.spans().stream().map(SpanData::name).toList());
        return named.get(0);
    }

    /** A streaming caller that passes everything on at once, recorded as one line per event. */
    static class Events implements ConversationListener {
        final List<String> all = new CopyOnWriteArrayList<>();

        @Override
        public void textDelta(String text) {
            all.add("text " + text);
        }

        @Override
        public void toolCall(String toolUseId, String name, JsonNode input) {
            all.add("call " + toolUseId + " " + name + " " + input);
        }

        @Override
        public void toolResult(String toolUseId, String name, String content, boolean isError) {
            all.add("result " + toolUseId + " " + name + " " + isError + " " + content);
        }

        @Override
        public boolean relayedAnything() {
            return all.stream().anyMatch(e -> e.startsWith("text "));
        }

        /** The text events in [from, to) joined. */
        String text(int from, int to) {
            StringBuilder b = new StringBuilder();
            all.subList(from, to).forEach(e -> {
                assertTrue(e.startsWith("text "), e);
                b.append(e.substring(5));
            });
            return b.toString();
        }
    }
}
