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
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
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

    public static class Enabled implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("agentfn.gateway.enabled", "true");
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

    static void assertUsage(JsonNode span, int input, int output, int cacheRead, int cacheWrite) {
        JsonNode u = span.at("/attributes/mlflow.chat.tokenUsage");
        assertEquals(input, u.get("input_tokens").asInt(), u.toString());
        assertEquals(output, u.get("output_tokens").asInt(), u.toString());
        assertEquals(cacheRead, u.get("cache_read_input_tokens").asInt(), u.toString());
        assertEquals(cacheWrite, u.get("cache_creation_input_tokens").asInt(), u.toString());
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
        fake.enqueue(
                FakeTurn.toolUse("Writing.", new ToolCall("toolu_gw1", "Write",
                        Map.of("file_path", file.toString(), "content", "through the gateway\n"))).withUsage(40, 8, 0, 0),
                FakeTurn.toolUse("Reading.", new ToolCall("toolu_gr1", "Read", Map.of("file_path", file.toString())))
                        .withUsage(50, 7, 0, 0),
                FakeTurn.text("The file says: through the gateway.").withUsage(60, 9, 0, 0));
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

    /** Runs a snippet with the benchmark peers' Python (the official anthropic SDK); last stdout line as JSON. */
    static JsonNode sdk(String snippet, String user) throws Exception {
        Path venv;
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("user.home"), ".cache", "agentfn"))) {
            venv = s.filter(p -> p.getFileName().toString().startsWith("bench-peers-") && Files.isDirectory(p))
                    .findFirst().orElseThrow(() -> new AssertionError("no bench peers venv with the anthropic SDK"));
        }
        Path script = Files.createTempFile("gateway-sdk", ".py");
        Files.writeString(script, snippet);
        Process p = new ProcessBuilder(venv.resolve("bin/python").toString(), script.toString(),
                "http://127.0.0.1:" + RestAssured.port, KEY, user).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        Files.deleteIfExists(script);
        assertEquals(0, p.exitValue(), out);
        String[] lines = out.strip().split("\n");
        return JSON.readTree(lines[lines.length - 1]);
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
