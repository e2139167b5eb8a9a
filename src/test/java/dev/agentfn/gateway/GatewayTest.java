package dev.agentfn.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.standin.RecordedRequest;
import dev.agentfn.standin.ToolCall;
import dev.agentfn.testing.ExternalTool;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import dev.agentfn.testing.MlflowServer;
import dev.agentfn.tracing.spool.SpoolDrainer;
import dev.agentfn.tracing.spool.TraceSpool;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway with real clients: the pinned Claude Code CLI in print mode and the official Anthropic Python SDK,
 * pointed at agentfn, whose upstream is the fake Messages API; traces read back with MLflow's Python client.
 */
@QuarkusTest
@TestProfile(GatewayTest.Enabled.class)
class GatewayTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String KEY = FakeAnthropicResource.TEST_API_KEY;
    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    MlflowPython mlflow = new MlflowPython(MlflowServerResource.server());
    @Inject
    SpoolDrainer drainer;
    @Inject
    TraceSpool spool;

    public static class Enabled implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // a generous export timeout: on a loaded machine a turn's trace is then confirmed, never spooled, before
            // its message_stop, which theTurnsTraceIsInMlflowBeforeItsMessageStopReachesTheClient reads at once
            return Map.of("agentfn.gateway.enabled", "true", "agentfn.tracing.export-timeout", "30s");
        }
    }

    @BeforeEach
    void reset() {
        fake.reset();
    }

    // ---- the Anthropic Python SDK -------------------------------------------------------------

    @Test
    void pythonSdkJsonAndStreamingAreRelayedAndEachIsATraceWithTheServedUsage() throws Exception {
        String user = "sdk-" + UUID.randomUUID();
        fake.enqueue(FakeTurn.text("Plain answer.").withUsage(21, 5, 3, 2), FakeTurn.text("Streamed answer.").withUsage(17, 9, 0, 4));
        JsonNode out = sdk("""
                import anthropic, json, sys
                c = anthropic.Anthropic(base_url=sys.argv[1], api_key=sys.argv[2], default_headers={"x-agentfn-user": sys.argv[3]}, max_retries=0)
                m = c.messages.create(model="claude-sonnet-5-5", max_tokens=100, messages=[{"role": "user", "content": "Hi"}])
                with c.messages.stream(model="claude-sonnet-5-5", max_tokens=100, messages=[{"role": "user", "content": "Stream please"}]) as s:
                    events = [e.type for e in s]
                    final = s.get_final_message()
                print(json.dumps({"plain": m.content[0].text, "plain_usage": m.usage.model_dump(), "streamed": final.content[0].text,
                                  "events": events, "stream_usage": final.usage.model_dump()}))
                """, user);
        assertEquals("Plain answer.", out.get("plain").asText());
        assertEquals("Streamed answer.", out.get("streamed").asText());
        assertTrue(out.get("events").toString().contains("message_stop"), out.toString());
        // the fake refuses a request without x-api-key: both answers mean the caller's key went upstream

        List<JsonNode> traces = tracesWhere("metadata.`mlflow.trace.user` = '" + user + "'", 2);
        assertEquals(2, traces.size());
        for (JsonNode t : traces) {
            assertEquals("OK", t.get("state").asText());
            JsonNode root = t.get("spans").get(0);
            assertEquals("llm", root.get("name").asText());
            assertEquals("LLM", root.get("span_type").asText());
            assertEquals("claude-sonnet-5-5", root.at("/inputs/model").asText());
            assertTrue(root.at("/inputs/messages").isArray());
            assertFalse(t.get("json").asText().contains(KEY), "the key is in no trace");
        }
        JsonNode plain = traces.stream().filter(t -> t.get("response_preview").asText().contains("Plain")).findFirst().orElseThrow();
        JsonNode streamed = traces.stream().filter(t -> t.get("response_preview").asText().contains("Streamed")).findFirst().orElseThrow();
        assertUsage(plain.get("spans").get(0), 21 + 3 + 2, 5, 3, 2);
        assertUsage(streamed.get("spans").get(0), 17 + 4, 9, 0, 4);
        assertTrue(plain.at("/spans/0/attributes/mlflow.llm.cost/total_cost").asDouble() > 0, "priced");
    }

    @Test
    void anSdkCallersTraceparentPutsTheCallIntoTheCallersOwnTraceWithoutTouchingItsRecord() throws Exception {
        fake.enqueue(FakeTurn.text("Joined answer.").withUsage(11, 4, 0, 0));
        // MLflow's own distributed tracing on the caller's side: its span's context goes out as traceparent
        JsonNode caller = sdk("""
                import anthropic, json, sys, mlflow
                from mlflow.tracing import get_tracing_context_headers_for_http_request
                mlflow.set_tracking_uri(sys.argv[4])
                mlflow.set_experiment(experiment_id=sys.argv[5])
                c = anthropic.Anthropic(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
                with mlflow.start_span("client-root") as root:
                    root.set_inputs({"question": "Join me"})
                    m = c.messages.create(model="claude-sonnet-5-5", max_tokens=50, messages=[{"role": "user", "content": "Join me"}],
                                          extra_headers=get_tracing_context_headers_for_http_request())
                    root.set_outputs({"answer": m.content[0].text})
                mlflow.flush_trace_async_logging()
                print(json.dumps({"trace_id": root.trace_id, "span_id": root.span_id}))
                """, "joined", MlflowServerResource.server().uri().toString(), MlflowServerResource.experimentId());

        JsonNode trace = mlflow.json("""
                import mlflow, json, time
                for _ in range(100):
                    t = mlflow.get_trace(%s)
                    if t is not None and len(t.data.spans) == 2:
                        break
                    time.sleep(0.1)
                print(json.dumps({"state": str(getattr(t.info.state, "value", t.info.state)), "metadata": t.info.trace_metadata,
                                  "request_preview": t.info.request_preview,
                                  "spans": [{"name": s.name, "span_id": s.span_id, "parent_id": s.parent_id,
                                             "span_type": s.span_type, "attributes": dict(s.attributes)} for s in t.data.spans]},
                                 default=str))
                """.formatted(pyString(caller.get("trace_id").asText())));
        assertEquals(2, trace.get("spans").size(), "the caller's span and the gateway's call, in one trace: " + trace);
        JsonNode llm = spans(trace, "LLM").get(0);
        assertEquals("llm", llm.get("name").asText());
        assertEquals(caller.get("span_id").asText(), llm.get("parent_id").asText(), "under the span the traceparent named");
        assertUsage(llm, 11, 4, 0, 0);
        assertEquals("OK", trace.get("state").asText());
        assertTrue(trace.get("request_preview").asText().contains("Join me"), "the caller's record, as the caller wrote it");
        assertFalse(trace.get("metadata").has("agentfn.engine"), "the gateway wrote spans only, never the record: " + trace);
    }

    static void assertUsage(JsonNode span, int input, int output, int cacheRead, int cacheWrite) {
        JsonNode u = span.at("/attributes/mlflow.chat.tokenUsage");
        assertEquals(input, u.get("input_tokens").asInt(), u.toString());
        assertEquals(output, u.get("output_tokens").asInt(), u.toString());
        assertEquals(cacheRead, u.get("cache_read_input_tokens").asInt(), u.toString());
        assertEquals(cacheWrite, u.get("cache_creation_input_tokens").asInt(), u.toString());
    }

    // ---- judges on what the gateway recorded ---------------------------------------------------

    /** One Claude Code turn that asks for no tool: one complete trace, root {@code claude_code_conversation}. */
    String claudeCodeTurn(String session, String user, String prompt, String answer) {
        fake.enqueue(FakeTurn.text(answer));
        String body = "{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\","
                + "\"content\":[{\"type\":\"text\",\"text\":\"" + prompt + "\"}]}],\"tools\":[{\"name\":\"Read\","
                + "\"description\":\"read a file\",\"input_schema\":{\"type\":\"object\"}}]}";
        return given().contentType("application/json").header("x-api-key", KEY).header("anthropic-version", "2023-06-01")
                .header("x-claude-code-session-id", session).header("x-agentfn-user", user)
                .header("user-agent", "claude-cli/2.1.330 (external, sdk-cli)").body(body)
                .when().post("/v1/messages").then().statusCode(200).extract().path("content[0].text");
    }

    @Test
    void theMonitoringEvaluationScoresGatewaySessionsWithAJudge() {
        String session = "monitored-" + UUID.randomUUID();
        String user = "judge-" + session;
        assertEquals("Paris.", claudeCodeTurn(session, user, "Capital of France?", "Paris."));
        assertEquals("Lima.", claudeCodeTurn(session, user, "Capital of Peru?", "Lima."));
        List<JsonNode> turns = tracesWhere("metadata.`mlflow.trace.session` = '" + session + "'", 2);
        assertEquals(2, turns.size(), "one trace per user turn");
        turns.forEach(t -> assertEquals("claude_code_conversation", t.at("/spans/0/name").asText(), t.toString()));
        fake.reset();
        String yes = "{\"result\":\"yes\",\"rationale\":\"judged yes\"}";
        fake.enqueue(FakeTurn.text(yes), FakeTurn.text(yes));

        String monitor = """
                {"name":"gateway-%s","wait":true,
                 "dataset":{"traces":{"filter":"metadata.`mlflow.trace.session` = '%s'","window":"10m"}},
                 "scorers":[{"type":"judge","name":"relevance","instructions":"Is {{ outputs }} an answer to {{ inputs }}?"},
                            "no_error"]}
                """.formatted(session.substring(10, 18), session);
        io.restassured.path.json.JsonPath run = given().contentType("application/json").body(monitor)
                .when().post("/v1/evaluations").then().statusCode(200).extract().jsonPath();
        assertEquals("FINISHED", run.getString("status"), run.prettify());
        assertEquals(2, run.getInt("rows_total"), run.prettify());
        String judged = fake.messageRequests().stream().map(RecordedRequest::body).reduce("", String::concat);
        assertTrue(judged.contains("Capital of Peru?") && judged.contains("Lima."),
                "the judge saw the turn's prompt and answer as the gateway recorded them: " + judged);

        JsonNode scored = mlflow.json("""
                import mlflow, json
                out = {}
                for t in %s:
                    info = mlflow.get_trace(t).info
                    out[t] = sorted(a.name + "=" + str(a.feedback.value) for a in info.assessments)
                print(json.dumps(out))
                """.formatted(JSON.valueToTree(turns.stream().map(t -> t.get("trace_id").asText()).toList())));
        for (JsonNode t : turns) {
            assertEquals("[\"no_error=True\",\"relevance=yes\"]", scored.get(t.get("trace_id").asText()).toString(),
                    scored.toString());
        }
    }

    // ---- errors --------------------------------------------------------------------------------

    @Test
    void gatewayErrorsAreInAnthropicsShapeAndUpstreamErrorsAreRelayedUnchanged() {
        given().contentType("application/json").header("x-api-key", KEY).body("{\"model\": ").when().post("/v1/messages")
                .then().statusCode(400).contentType("application/json").body("type", equalTo("error"))
                .body("error.type", equalTo("invalid_request_error"));
        fake.enqueue(FakeTurn.error(429, "rate_limit_error", "slow down", Map.of("retry-after", "7")));
        String body = given().contentType("application/json").header("x-api-key", KEY).header("anthropic-version", "2023-06-01")
                .body("{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")
                .when().post("/v1/messages?beta=true").then().statusCode(429).header("retry-after", "7")
                .body("error.type", equalTo("rate_limit_error")).extract().asString();
        assertFalse(body.contains(KEY));
        RecordedRequest sent = fake.messageRequests().get(0);
        assertTrue(sent.path().endsWith("?beta=true"), sent.path());
        assertEquals("2023-06-01", sent.header("anthropic-version"));
    }

    /**
     * An upstream that closes the connection before any answer byte (a pooled keep-alive connection it was dropping as
     * the request went out) gets the request once more on another connection; a second close is the caller's 502
     * in Anthropic's shape. Never more than once: the gateway does not retry on the client's behalf.
     */
    @Test
    void aConnectionClosedBeforeAnyAnswerIsSentOnceMoreAndOnlyOnce() {
        String request = "{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
        fake.enqueue(FakeTurn.dropConnection(0), FakeTurn.text("After the resend."));
        given().contentType("application/json").header("x-api-key", KEY).header("anthropic-version", "2023-06-01")
                .body(request).when().post("/v1/messages").then().statusCode(200)
                .body("content[0].text", equalTo("After the resend."));
        assertEquals(2, fake.messageRequests().size(), "the closed request was sent once more");

        fake.reset();
        fake.enqueue(FakeTurn.dropConnection(0), FakeTurn.dropConnection(0), FakeTurn.text("never asked for"));
        given().contentType("application/json").header("x-api-key", KEY).header("anthropic-version", "2023-06-01")
                .body(request).when().post("/v1/messages").then().statusCode(502).body("type", equalTo("error"))
                .body("error.type", equalTo("api_error"));
        assertEquals(2, fake.messageRequests().size(), "sent once more, not twice");
    }

    @Test
    void countTokensAndModelsAreRelayedAsUpstreamAnswersThem() {
        String body = "{\"model\":\"claude-sonnet-5-5\",\"messages\":[{\"role\":\"user\",\"content\":\"count me\"}]}";
        int direct = given().baseUri(fake.baseUrl()).port(fake.port()).contentType("application/json").header("x-api-key", KEY)
                .header("anthropic-version", "2023-06-01").body(body).when().post("/v1/messages/count_tokens").then()
                .statusCode(200).extract().path("input_tokens");
        given().contentType("application/json").header("x-api-key", KEY).header("anthropic-version", "2023-06-01")
                .body(body).when().post("/v1/messages/count_tokens").then().statusCode(200)
                .body("input_tokens", equalTo(direct));
        int modelsDirect = given().baseUri(fake.baseUrl()).port(fake.port()).header("x-api-key", KEY).when()
                .get("/v1/models/claude-sonnet-5-5").then().extract().statusCode();
        given().header("x-api-key", KEY).when().get("/v1/models/claude-sonnet-5-5").then().statusCode(modelsDirect);
        assertTrue(fake.messageRequests().stream().noneMatch(q -> q.path().equals("/v1/messages")), "no model call");
    }

    @Test
    void aClientHangingUpMidRequestClosesItsTraceAsAnError() throws Exception {
        String user = "hangup-" + UUID.randomUUID();
        fake.enqueue(FakeTurn.text("too late").withLatency(java.time.Duration.ofSeconds(5)));
        String body = "{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":10,\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hang up on me\"}]}";
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", RestAssured.port)) {
            socket.getOutputStream().write(("POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "x-api-key: " + KEY + "\r\nanthropic-version: 2023-06-01\r\nx-agentfn-user: " + user + "\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            for (int i = 0; i < 100 && fake.messageRequests().isEmpty(); i++) {
                Thread.sleep(50); // until the request reached upstream
            }
        }
        List<JsonNode> traces = tracesWhere("metadata.`mlflow.trace.user` = '" + user + "'", 1);
        assertEquals(1, traces.size());
        assertEquals("ERROR", traces.get(0).get("state").asText());
        assertTrue(traces.get(0).at("/spans/0/status").asText().contains("ERROR"), traces.get(0).get("spans").toString());
    }

    @Test
    void theTurnsTraceIsInMlflowBeforeItsMessageStopReachesTheClient() throws Exception {
        String session = "flushed-" + UUID.randomUUID();
        fake.enqueue(FakeTurn.text("Stored before you read this."));
        String body = "{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":100,\"stream\":true,\"messages\":[{\"role\":"
                + "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Flush first\"}]}],\"tools\":[{\"name\":\"Read\","
                + "\"description\":\"read a file\",\"input_schema\":{\"type\":\"object\"}}]}";
        java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + RestAssured.port + "/v1/messages"))
                .header("content-type", "application/json").header("x-api-key", KEY)
                .header("anthropic-version", "2023-06-01").header("x-claude-code-session-id", session)
                .header("user-agent", "claude-cli/2.1.330 (external, sdk-cli)")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build();
        java.net.http.HttpResponse<Stream<String>> res = java.net.http.HttpClient.newHttpClient()
                .send(req, java.net.http.HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, res.statusCode());
        try (Stream<String> lines = res.body()) {
            // read up to the final event only: what the client knows at that moment
            assertTrue(lines.anyMatch(l -> l.equals("event: message_stop")), "the stream ends with message_stop");
            dev.agentfn.mlflow.MlflowTracking tracking = new dev.agentfn.mlflow.MlflowTracking(
                    dev.agentfn.mlflow.MlflowRest.standalone(dev.agentfn.mlflow.MlflowTarget.of(
                            MlflowServerResource.server().uri().toString())));
            List<JsonNode> found = tracking.searchTraces(MlflowServerResource.experimentId(),
                    "metadata.`mlflow.trace.session` = '" + session + "'", 10, null).get(30, TimeUnit.SECONDS).traceInfos();
            assertEquals(1, found.size(), "one search, no waiting: the turn's trace is already stored");
            assertEquals("OK", found.get(0).path("state").asText(), found.get(0).toString());
            assertEquals("Stored before you read this.", found.get(0).path("response_preview").asText());
        }
    }

    // ---- the Claude Code CLI -------------------------------------------------------------------

    @Test
    void claudeCodePlainTurnIsOneTraceWithRootAndLlmSpan() throws Exception {
        String session = UUID.randomUUID().toString();
        fake.enqueue(FakeTurn.text("Hello through the gateway.").withUsage(30, 6, 10, 5));
        String out = cli(session, false, "Say hello");
        assertTrue(out.contains("Hello through the gateway."), out);
        JsonNode t = turns(session, 1).get(0);
        assertEquals("OK", t.get("state").asText());
        assertEquals("claude_code_conversation", t.at("/tags/mlflow.traceName").asText());
        JsonNode root = spans(t, "AGENT").get(0);
        assertEquals("claude_code_conversation", root.get("name").asText());
        assertTrue(root.at("/inputs/prompt").asText().contains("Say hello"), root.toString());
        assertEquals("Hello through the gateway.", root.at("/outputs/response").asText());
        List<JsonNode> llm = spans(t, "LLM");
        assertEquals(1, llm.size());
        assertEquals(root.get("span_id").asText(), llm.get(0).get("parent_id").asText());
        assertTrue(llm.get(0).at("/inputs/tools").size() > 0, "chat-form inputs with the tools as sent");
        assertTrue(llm.get(0).at("/inputs/system").isArray());
        assertUsage(llm.get(0), 45, 6, 10, 5);
        assertEquals("2.1.330", t.at("/metadata/mlflow.claude_code_version").asText());
        assertEquals(session, t.at("/metadata/mlflow.trace.session").asText());
        assertTrue(read(t.at("/metadata/mlflow.trace.cost").asText()).get("total_cost").asDouble() > 0);
        assertFalse(t.get("json").asText().contains(KEY));
    }

    @Test
    void claudeCodeToolTurnWritesThenReadsAndTwoTurnsOfOneSessionAreTwoTraces() throws Exception {
        String session = UUID.randomUUID().toString();
        Path work = workDir(session);
        Path file = work.toRealPath().resolve("notes.txt");
        enqueueWriteThenRead(file, "through the gateway", "gw");
        String out = cli(session, false, "Write notes.txt then read it");
        assertTrue(out.contains("The file says: through the gateway."), out);
        assertEquals("through the gateway\n", Files.readString(file), "the CLI's Write tool really ran");

        fake.enqueue(FakeTurn.text("Second turn answer.").withUsage(70, 3, 0, 0));
        assertTrue(cli(session, true, "And now?").contains("Second turn answer."));

        List<JsonNode> turns = turns(session, 2);
        assertEquals(2, turns.size(), "one trace per user turn");
        JsonNode first = turns.get(0);
        JsonNode root = spans(first, "AGENT").get(0);
        List<JsonNode> tools = spans(first, "TOOL");
        assertEquals(List.of("tool_Write", "tool_Read"), tools.stream().map(s -> s.get("name").asText()).toList());
        for (JsonNode s : tools) {
            assertEquals(root.get("span_id").asText(), s.get("parent_id").asText());
            assertEquals(file.toString(), s.at("/inputs/file_path").asText());
        }
        assertTrue(tools.get(1).at("/outputs/result").asText().contains("through the gateway"), tools.get(1).toString());
        List<JsonNode> llm = spans(first, "LLM");
        assertEquals(3, llm.size());
        assertUsage(llm.get(0), 40, 8, 0, 0);
        assertUsage(llm.get(1), 50, 7, 0, 0);
        assertUsage(llm.get(2), 60, 9, 0, 0);
        JsonNode total = read(first.at("/metadata/mlflow.trace.tokenUsage").asText());
        assertEquals(150, total.get("input_tokens").asInt(), total.toString());
        assertEquals(24, total.get("output_tokens").asInt(), total.toString());
        assertTrue(llm.get(0).get("end").asLong() <= tools.get(0).get("start").asLong(), "the tool ran after its answer");
        assertEquals("The file says: through the gateway.", root.at("/outputs/response").asText());
        JsonNode second = turns.get(1);
        assertTrue(spans(second, "AGENT").get(0).at("/inputs/prompt").asText().contains("And now?"));
        assertEquals(1, spans(second, "LLM").size());
    }

    /**
     * MLflow down for a whole Claude Code turn of three calls: every write of the turn is spooled, each holding only
     * what its call ended, and once MLflow is back the drainer delivers the turn whole, as if it had been up.
     */
    @Test
    void aClaudeCodeTurnServedWhileMlflowWasDownReachesItWholeOnceItIsBack() throws Exception {
        String session = UUID.randomUUID().toString();
        Path file = workDir(session).toRealPath().resolve("outage.txt");
        enqueueWriteThenRead(file, "written while MLflow was down", "down");
        MlflowServer server = MlflowServerResource.server();
        String out;
        server.stop();
        try {
            out = cli(session, false, "Write outage.txt then read it");
        } finally {
            server.start();
        }
        assertTrue(out.contains("The file says: written while MLflow was down."), "the answer never waits on MLflow: " + out);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (spooledFor(session) && System.nanoTime() < deadline) {
            drainer.drainOnce();
            Thread.sleep(200);
        }
        assertFalse(spooledFor(session), "the spool delivered the turn");
        List<JsonNode> turns = turns(session, 1);
        assertEquals(1, turns.size(), turns.toString());
        JsonNode t = turns.get(0);
        assertEquals("OK", t.get("state").asText());
        assertEquals(3, spans(t, "LLM").size(), "every call, not only the last write's: " + t.get("spans").findValuesAsText("name"));
        assertEquals(List.of("tool_Write", "tool_Read"), spans(t, "TOOL").stream().map(s -> s.get("name").asText()).toList());
        assertEquals("The file says: written while MLflow was down.",
                spans(t, "AGENT").get(0).at("/outputs/response").asText(), "the final root");
        JsonNode total = read(t.at("/metadata/mlflow.trace.tokenUsage").asText());
        assertEquals(150, total.get("input_tokens").asInt(), total.toString());
    }

    /**
     * A turn of three calls: Write {@code text} to the file (usage 40/8), Read it back (50/7), then answer "The file
     * says: {@code text}." (60/9). Tool-use ids end in {@code idSuffix}.
     */
    void enqueueWriteThenRead(Path file, String text, String idSuffix) {
        fake.enqueue(
                FakeTurn.toolUse("Writing.", new ToolCall("toolu_w" + idSuffix, "Write",
                        Map.of("file_path", file.toString(), "content", text + "\n"))).withUsage(40, 8, 0, 0),
                FakeTurn.toolUse("Reading.", new ToolCall("toolu_r" + idSuffix, "Read", Map.of("file_path", file.toString())))
                        .withUsage(50, 7, 0, 0),
                FakeTurn.text("The file says: " + text + ".").withUsage(60, 9, 0, 0));
    }

    private boolean spooledFor(String session) {
        return spool.oldest(10_000).stream()
                .anyMatch(s -> session.equals(s.trace().info().metadata().get(dev.agentfn.mlflow.MlflowKeys.Metadata.SESSION)));
    }

    /**
     * Claude Code 2.1.330 runs the Agent tool in the background: its tool result says "launched" at once, the main
     * agent answers, the subagent's requests run meanwhile, and a reminder-only user message brings its result back
     * to the main agent, all in the same turn. The main agent's second request and the subagent's first race for
     * the fake's next answer, so both get the same one.
     */
    @Test
    void claudeCodeSubagentIsNestedUnderTheToolCallThatStartedIt() throws Exception {
        String session = UUID.randomUUID().toString();
        fake.enqueue(
                FakeTurn.toolUse("Delegating.", new ToolCall("toolu_ag1", "Agent", Map.of("description", "Count words",
                        "prompt", "Count the words in: one two three", "subagent_type", "general-purpose"))).withUsage(40, 8, 0, 0),
                FakeTurn.text("Working on it.").withUsage(25, 4, 0, 0),
                FakeTurn.text("Working on it.").withUsage(25, 4, 0, 0),
                FakeTurn.text("The subagent counted 3 words.").withUsage(55, 6, 0, 0));
        String out = cli(session, false, "Use a subagent to count words");
        assertTrue(out.contains("The subagent counted 3 words."), out);
        List<RecordedRequest> sent = fake.messageRequests();
        assertEquals(4, sent.size(), "main, main and subagent, main");
        assertEquals(1, sent.stream().filter(q -> q.header("x-claude-code-agent-id") != null).count(),
                "the CLI names the subagent in X-Claude-Code-Agent-Id");

        List<JsonNode> turns = turns(session, 1);
        assertEquals(1, turns.size(), "the agent's report back continues the turn");
        JsonNode t = turns.get(0);
        assertEquals("OK", t.get("state").asText());
        JsonNode root = spans(t, "AGENT").stream().filter(s -> s.get("name").asText().equals("claude_code_conversation"))
                .findFirst().orElseThrow();
        JsonNode tool = spans(t, "TOOL").get(0);
        assertEquals("tool_Agent", tool.get("name").asText());
        assertEquals(root.get("span_id").asText(), tool.get("parent_id").asText());
        JsonNode sub = spans(t, "AGENT").stream().filter(s -> s.get("name").asText().startsWith("subagent_")).findFirst()
                .orElseThrow(() -> new AssertionError("no subagent span: " + t.get("spans")));
        assertEquals("subagent_general-purpose", sub.get("name").asText());
        assertEquals(tool.get("span_id").asText(), sub.get("parent_id").asText(), "the subagent runs under its Agent call");
        assertEquals("Count the words in: one two three", sub.at("/inputs/prompt").asText());
        List<JsonNode> llm = spans(t, "LLM");
        assertEquals(4, llm.size());
        List<JsonNode> subCalls = llm.stream().filter(s -> s.get("parent_id").asText().equals(sub.get("span_id").asText())).toList();
        assertEquals(1, subCalls.size(), "the subagent's model call is its child");
        assertUsage(subCalls.get(0), 25, 4, 0, 0);
        JsonNode total = read(t.at("/metadata/mlflow.trace.tokenUsage").asText());
        assertEquals(40 + 25 + 25 + 55, total.get("input_tokens").asInt(), total.toString());
        assertEquals("The subagent counted 3 words.", root.at("/outputs/response").asText());
    }

    // ---- helpers -------------------------------------------------------------------------------

    static Path workDir(String session) throws IOException {
        Path p = Path.of("target", "gateway-cli", session).toAbsolutePath();
        Files.createDirectories(p.resolve("work"));
        Files.createDirectories(p.resolve("config"));
        Files.createDirectories(p.resolve("tmp"));
        return p.resolve("work");
    }

    /** Runs the pinned CLI in print mode against the gateway; returns its stdout (stream-json). */
    static String cli(String session, boolean resume, String prompt) throws Exception {
        Path work = workDir(session);
        Path home = work.getParent();
        List<String> cmd = new ArrayList<>(List.of(FakeAnthropicResource.claudeCodeCli().toString(), "-p", prompt,
                "--output-format", "stream-json", "--verbose", "--model=claude-sonnet-5-5", "--tools=Write,Read,Agent",
                "--allowedTools=Write,Read,Agent", "--permission-mode=acceptEdits", "--setting-sources=",
                resume ? "--resume=" + session : "--session-id=" + session));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile());
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("LANG", "C.UTF-8");
        env.put("HOME", home.toString());
        env.put("TMPDIR", home.resolve("tmp").toString());
        env.put("CLAUDE_CONFIG_DIR", home.resolve("config").toString());
        env.put("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
        env.put("DISABLE_AUTOUPDATER", "1");
        env.put("CLAUDE_CODE_MAX_RETRIES", "0");
        env.put("ANTHROPIC_BASE_URL", "http://127.0.0.1:" + RestAssured.port);
        env.put("ANTHROPIC_API_KEY", KEY);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI ended");
        String s = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), s);
        assertFalse(s.contains(KEY), "the key is in no answer");
        return s;
    }

    /**
     * The benchmark peers' virtualenv (bench/peers/setup.sh), which holds the pinned official anthropic SDK: system
     * property {@code agentfn-tests.anthropic-sdk-venv} (bin/test passes it), else the newest such cached venv.
     * Missing, the test fails (CI) or is skipped (a developer's run without it).
     */
    static Path sdkVenv() throws IOException {
        String p = System.getProperty("agentfn-tests.anthropic-sdk-venv");
        Path venv = p != null && !p.isBlank() ? Path.of(p) : cachedPeersVenv();
        if (venv == null || !Files.isExecutable(venv.resolve("bin/python"))) {
            String why = "no Python with the anthropic SDK" + (venv == null ? "" : " in " + venv)
                    + "; run bench/peers/setup.sh (bin/test does) and pass -Dagentfn-tests.anthropic-sdk-venv=<its output>";
            ExternalTool.missing(why);
        }
        return venv;
    }

    private static Path cachedPeersVenv() throws IOException {
        Path cache = Path.of(System.getProperty("user.home"), ".cache", "agentfn");
        if (!Files.isDirectory(cache)) {
            return null;
        }
        try (Stream<Path> s = Files.list(cache)) {
            return s.filter(d -> d.getFileName().toString().startsWith("bench-peers-") && Files.isRegularFile(d.resolve(".installed")))
                    .max(java.util.Comparator.comparing(d -> d.toFile().lastModified())).orElse(null);
        }
    }

    /** Runs a snippet with the benchmark peers' Python (the official anthropic SDK); its last JSON line. */
    static JsonNode sdk(String snippet, String user, String... more) throws Exception {
        Path venv = sdkVenv();
        Path script = Files.createTempFile("gateway-sdk", ".py");
        Files.writeString(script, snippet);
        List<String> command = new ArrayList<>(List.of(venv.resolve("bin/python").toString(), script.toString(),
                "http://127.0.0.1:" + RestAssured.port, KEY, user));
        command.addAll(List.of(more));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        Files.deleteIfExists(script);
        assertEquals(0, p.exitValue(), out);
        // the last JSON line: MLflow's client may log after it (stderr is merged for the failure message)
        List<String> lines = new ArrayList<>(List.of(out.strip().split("\n")));
        java.util.Collections.reverse(lines);
        return JSON.readTree(lines.stream().filter(l -> l.startsWith("{")).findFirst().orElseThrow(() -> new AssertionError(out)));
    }

    List<JsonNode> turns(String session, int expected) {
        return tracesWhere("metadata.`mlflow.trace.session` = '" + session + "'", expected);
    }

    /** Traces matching the filter, oldest first, each read whole; waits for {@code expected} to be there. */
    List<JsonNode> tracesWhere(String filter, int expected) {
        JsonNode all = mlflow.json("""
                import mlflow, json, time
                for _ in range(100):
                    found = mlflow.search_traces(experiment_ids=[e.experiment_id for e in mlflow.search_experiments()],
                                                 filter_string=%s, return_type="list", order_by=["timestamp_ms ASC"])
                    if len(found) >= %d and all(str(getattr(t.info.state, "value", t.info.state)) != "IN_PROGRESS" for t in found):
                        break
                    time.sleep(0.1)
                out = []
                for t in found:
                    spans = [{"name": s.name, "span_id": s.span_id, "parent_id": s.parent_id, "span_type": s.span_type,
                              "inputs": s.inputs, "outputs": s.outputs, "start": s.start_time_ns, "end": s.end_time_ns,
                              "status": str(getattr(s.status.status_code, "value", s.status.status_code)),
                              "attributes": {k: v for k, v in s.attributes.items()}} for s in t.data.spans]
                    out.append({"state": str(getattr(t.info.state, "value", t.info.state)), "trace_id": t.info.trace_id,
                                "request_preview": t.info.request_preview, "response_preview": t.info.response_preview,
                                "metadata": t.info.trace_metadata, "tags": t.info.tags, "spans": spans, "json": t.to_json()})
                print(json.dumps(out, default=str))
                """.formatted(pyString(filter), expected));
        List<JsonNode> out = new ArrayList<>();
        all.forEach(out::add);
        return out;
    }

    static String pyString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    static List<JsonNode> spans(JsonNode trace, String type) {
        List<JsonNode> out = new ArrayList<>();
        trace.get("spans").forEach(s -> {
            if (s.get("span_type").asText().equals(type)) {
                out.add(s);
            }
        });
        out.sort((a, b) -> Long.compare(a.get("start").asLong(), b.get("start").asLong()));
        return out;
    }

    static JsonNode read(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
