package dev.agentfn.conversation.claudecode;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The claude-code engine end to end: the real Claude Code CLI (installed by {@code .ci/setup-claude-code.sh})
 * against the fake Messages API, traces read back from a real MLflow server by MLflow's Python client.
 * After every test no CLI process and no per-invocation directory is left.
 */
@QuarkusTest
class ClaudeCodeEngineTest {
    static final ObjectMapper JSON = new ObjectMapper();
    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());

    @BeforeAll
    static void cliInstalled() {
        Path cli = FakeAnthropicResource.claudeCodeCli();
        assertTrue(Files.isExecutable(cli), "the Claude Code CLI is missing at " + cli
                + "; run .ci/setup-claude-code.sh (bin/test does)");
    }

    @BeforeEach
    void reset() {
        fake.reset();
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertNoCliProcess();
        // after a hang-up nobody waits for the answer: the directories go right after the reaped process
        List<Path> left = workDirectories();
        for (int i = 0; i < 50 && !left.isEmpty(); i++) {
            Thread.sleep(100);
            left = workDirectories();
        }
        assertEquals(List.of(), left, "per-invocation directories left behind");
    }

    /** Per-invocation directories: in the process's own directory (marker aside), or anything else in the work root. */
    private static List<Path> workDirectories() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path p : list(FakeAnthropicResource.CLAUDE_CODE_WORK)) {
            if (p.getFileName().toString().startsWith(ProcessDirectory.PREFIX)) {
                list(p).stream().filter(q -> !q.getFileName().toString().equals(ProcessDirectory.MARKER)).forEach(out::add);
            } else {
                out.add(p);
            }
        }
        return out;
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> left = Files.exists(dir) ? Files.list(dir) : Stream.empty()) {
            return left.toList();
        }
    }

    /**
     * Processes running the CLI binary that this test run started, children of this JVM or orphans: told by
     * their {@code CLAUDE_CONFIG_DIR} under the test's directories (other runs on a shared machine use the same
     * cached binary). Zombie children are checked too.
     */
    static void assertNoCliProcess() throws InterruptedException {
        String cli = FakeAnthropicResource.claudeCodeCli().toString();
        List<ProcessHandle> left = List.of();
        for (int i = 0; i < 20; i++) {
            left = ProcessHandle.allProcesses().filter(p -> p.info().command().map(cli::equals).orElse(false))
                    .filter(ClaudeCodeEngineTest::startedByThisRun).toList();
            if (left.isEmpty() && zombieChildren().isEmpty()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("CLI processes left: " + left + ", zombie children: " + zombieChildren());
    }

    static boolean startedByThisRun(ProcessHandle p) {
        try {
            String env = new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ")),
                    java.nio.charset.StandardCharsets.UTF_8);
            return env.contains("CLAUDE_CONFIG_DIR=" + FakeAnthropicResource.CLAUDE_CODE_WORK)
                    || env.contains("CLAUDE_CONFIG_DIR=" + FakeAnthropicResource.CLAUDE_CODE_SESSIONS);
        } catch (IOException e) {
            return false; // gone meanwhile
        }
    }

    /** Children of this JVM that exited but were never reaped (state Z in /proc/<pid>/stat). */
    static List<Long> zombieChildren() {
        List<Long> out = new ArrayList<>();
        for (ProcessHandle p : ProcessHandle.current().children().toList()) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
                if (stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z")) {
                    out.add(p.pid());
                }
            } catch (IOException e) {
                // gone meanwhile
            }
        }
        return out;
    }

    JsonNode trace(String traceId) {
        return python.json("""
                import mlflow, json
                t = mlflow.get_trace("%s")
                spans = [{"name": s.name, "span_id": s.span_id, "parent_id": s.parent_id, "span_type": s.span_type,
                          "inputs": s.inputs, "outputs": s.outputs, "start": s.start_time_ns, "end": s.end_time_ns,
                          "status": s.status.status_code.value if hasattr(s.status.status_code, "value") else str(s.status.status_code),
                          "events": [{"name": e.name, "attributes": e.attributes} for e in s.events],
                          "attributes": {k: v for k, v in s.attributes.items()}} for s in t.data.spans]
                print(json.dumps({"state": str(t.info.state.value if hasattr(t.info.state, "value") else t.info.state),
                                  "request_preview": t.info.request_preview, "response_preview": t.info.response_preview,
                                  "metadata": t.info.trace_metadata, "tags": t.info.tags, "spans": spans,
                                  "json": t.to_json()}, default=str))
                """.formatted(traceId));
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

    static io.restassured.response.ValidatableResponse invoke(String body) {
        return given().contentType("application/json").body(body).when().post("/v1/invocations").then();
    }

    /** The working directory of a persistent session (the tests configure a session directory). */
    static Path sessionCwd(String sessionId) throws IOException {
        return FakeAnthropicResource.CLAUDE_CODE_SESSIONS.resolve(sessionId).resolve("work");
    }

    @Test
    void plainAnswerIsTracedWithTheClaudeCodeRootAndOneLlmSpan() {
        fake.enqueue(FakeTurn.text("Hello from the fake, via the CLI."));
        var r = invoke("{\"prompt\":\"Say hello\",\"engine\":\"claude-code\",\"user\":\"ada\"}")
                .statusCode(200).body("output", equalTo("Hello from the fake, via the CLI."))
                .body("engine", equalTo("claude-code")).body("stop_reason", equalTo("end_turn"))
                .body("trace.export", equalTo("delivered")).extract();
        String sessionId = r.path("session_id");
        UUID.fromString(sessionId);
        JsonNode t = trace(r.path("trace.id"));
        assertEquals("OK", t.get("state").asText());
        assertEquals(sessionId, t.at("/metadata/mlflow.trace.session").asText(), "the CLI's session id");
        assertEquals("ada", t.at("/metadata/mlflow.trace.user").asText());
        assertEquals("claude_code_conversation", t.at("/tags/mlflow.traceName").asText());
        JsonNode root = spans(t, "AGENT").get(0);
        assertEquals("claude_code_conversation", root.get("name").asText());
        assertEquals("2.1.330", root.at("/attributes/claude_code.version").asText());
        assertEquals(sessionId, root.at("/attributes/claude_code.session_id").asText());
        assertEquals("default", root.at("/attributes/claude_code.permission_mode").asText());
        assertTrue(root.at("/attributes/claude_code.cwd").asText().endsWith("/work"));
        assertEquals("Hello from the fake, via the CLI.", root.at("/outputs/response").asText());
        List<JsonNode> llm = spans(t, "LLM");
        assertEquals(1, llm.size(), "one LLM span per assistant message id");
        assertEquals("anthropic", llm.get(0).at("/attributes/mlflow.message.format").asText());
        assertEquals(root.get("span_id").asText(), llm.get(0).get("parent_id").asText());
        assertEquals("Hello from the fake, via the CLI.", llm.get(0).at("/outputs/content/0/text").asText());
        JsonNode usage = read(t.at("/metadata/mlflow.trace.tokenUsage").asText());
        assertTrue(usage.get("input_tokens").asInt() > 0 && usage.get("output_tokens").asInt() > 0, usage.toString());
        assertFalse(t.get("json").asText().contains(FakeAnthropicResource.TEST_API_KEY));

        RecordedRequest sent = fake.messageRequests().get(0);
        assertTrue(sent.path().startsWith("/v1/messages"), sent.path());
        assertTrue(sent.header("user-agent").contains("claude-cli/2.1.330"), sent.header("user-agent"));
        assertEquals("1", String.valueOf(fake.messageRequests().size()), "no auxiliary model call (non-essential traffic off)");
        assertTrue(fake.requests().stream().noneMatch(q -> q.path().startsWith("/api/hello")), "no connectivity probe");
    }

    @Test
    void cliWritesThenReadsAFileInItsDirectoryAndEachToolCallIsATimedToolSpan() throws Exception {
        String session = UUID.randomUUID().toString();
        Files.createDirectories(sessionCwd(session));
        Path file = sessionCwd(session).toRealPath().resolve("notes.txt");
        fake.enqueue(
                FakeTurn.toolUse("Writing.", new ToolCall("toolu_w1", "Write",
                        Map.of("file_path", file.toString(), "content", "agentfn was here\n"))),
                FakeTurn.toolUse("Reading.", new ToolCall("toolu_r1", "Read", Map.of("file_path", file.toString()))),
                FakeTurn.text("The file says: agentfn was here."));
        var r = invoke("{\"prompt\":\"Write notes.txt then read it\",\"engine\":\"claude-code\",\"session_id\":\""
                + session + "\"}").statusCode(200).body("output", equalTo("The file says: agentfn was here."))
                .body("session_id", equalTo(session)).extract();
        assertEquals("agentfn was here\n", Files.readString(file), "the CLI's Write tool really ran");

        JsonNode t = trace(r.path("trace.id"));
        JsonNode root = spans(t, "AGENT").get(0);
        List<JsonNode> tools = spans(t, "TOOL");
        assertEquals(List.of("tool_Write", "tool_Read"), tools.stream().map(s -> s.get("name").asText()).toList());
        for (JsonNode s : tools) {
            assertEquals(file.toString(), s.at("/inputs/file_path").asText());
            assertEquals(root.get("span_id").asText(), s.get("parent_id").asText());
            assertTrue(s.get("end").asLong() > s.get("start").asLong(), "a real duration");
            assertEquals("OK", s.get("status").asText());
        }
        assertTrue(tools.get(1).at("/outputs/result").asText().contains("agentfn was here"));
        assertTrue(tools.get(0).get("end").asLong() <= tools.get(1).get("start").asLong(), "Write ended before Read began");
        assertTrue(tools.get(0).get("events").toString().contains("allow"), "the policy's decision is on the span");
        List<JsonNode> llm = spans(t, "LLM");
        assertEquals(3, llm.size());
        assertTrue(llm.get(0).get("end").asLong() <= tools.get(0).get("start").asLong() + 1_000_000);
        assertEquals(session, t.at("/metadata/mlflow.trace.session").asText());
    }

    /**
     * Issue #18: each model call's span has its final usage (the message_delta's, not the first frame's
     * {@code output_tokens: 1}) and its cost, so they add up to the trace's totals from the CLI's result (no
     * auxiliary calls: non-essential traffic is off); its inputs are the chat request MLflow renders, with the CLI's
     * tools; the root's options are what the CLI was given; the start-up before the first call is a span.
     */
    @Test
    void llmSpansAddUpToTheTraceTotalsAndTheirInputsAreTheConversationAsChat() {
        fake.enqueue(FakeTurn.toolUse("Looking.", new ToolCall("toolu_g2", "Glob", Map.of("pattern", "*.md"))),
                FakeTurn.text("Nothing there."));
        var r = invoke("{\"prompt\":\"List md files\",\"engine\":\"claude-code\",\"max_tokens\":4096}")
                .statusCode(200).body("output", equalTo("Nothing there.")).extract();
        JsonNode t = trace(r.path("trace.id"));
        List<JsonNode> llm = spans(t, "LLM");
        assertEquals(2, llm.size());
        JsonNode total = read(t.at("/metadata/mlflow.trace.tokenUsage").asText());
        for (String key : List.of("input_tokens", "output_tokens", "total_tokens")) {
            long sum = llm.stream().mapToLong(s -> s.at("/attributes/mlflow.chat.tokenUsage/" + key).asLong()).sum();
            assertEquals(total.get(key).asLong(), sum, key + " of the LLM spans add up to the trace's");
        }
        assertTrue(llm.get(0).at("/attributes/mlflow.chat.tokenUsage/output_tokens").asLong() > 1,
                "the final usage, not the message_start snapshot");
        double spanCost = llm.stream().mapToDouble(s -> s.at("/attributes/mlflow.llm.cost/total_cost").asDouble()).sum();
        double traceCost = read(t.at("/metadata/mlflow.trace.cost").asText()).get("total_cost").asDouble();
        assertTrue(traceCost > 0);
        assertEquals(traceCost, spanCost, traceCost * 1e-9, "span costs add up to the trace cost");
        assertTrue(spans(t, "AGENT").get(0).at("/attributes/claude_code.usage_outside_llm_spans").isMissingNode());

        JsonNode second = llm.get(1).get("inputs");
        assertEquals("claude-sonnet-5-5", second.get("model").asText());
        assertEquals(List.of("user", "assistant", "user"), second.get("messages").findValues("role").stream()
                .map(JsonNode::asText).toList().subList(0, 3));
        assertEquals("List md files", second.at("/messages/0/content").asText());
        assertEquals("toolu_g2", second.at("/messages/1/content/1/id").asText());
        assertEquals("tool_result", second.at("/messages/2/content/0/type").asText());
        assertTrue(second.get("tools").toString().contains("\"Glob\""), second.get("tools").toString());
        JsonNode chatTools = llm.get(0).at("/attributes/mlflow.chat.tools");
        assertTrue(chatTools.findParents("function").stream().anyMatch(f -> f.path("type").asText().equals("function")
                && f.at("/function/name").asText().equals("Glob")), "OpenAI form for MLflow's tools panel: " + chatTools);

        JsonNode options = spans(t, "AGENT").get(0).at("/inputs/options");
        assertTrue(options.path("max_tokens").isMissingNode(), "the CLI is given no max_tokens: " + options);
        assertEquals(List.of("Edit", "Glob", "Grep", "LS", "Read", "TodoWrite", "Write"),
                JSON.convertValue(options.get("tools"), List.class), "the tools the CLI offers");
        assertEquals("default", options.path("permission_mode").asText());
        assertEquals("claude-sonnet-5-5", options.path("model").asText(), "the CLI's --model");
        assertTrue(options.path("max_turns").isInt(), "the CLI's --max-turns: " + options);
        JsonNode startup = t.get("spans").findParents("name").stream()
                .filter(s -> s.get("name").asText().equals("claude_code_startup")).findFirst().orElseThrow();
        assertEquals(false, startup.at("/attributes/claude_code.standby").asBoolean(true));
        assertTrue(startup.get("end").asLong() <= llm.get(0).get("start").asLong());
        assertEquals(20, llm.get(0).at("/attributes/mlflow.spanLogLevel").asInt());
    }

    @Test
    void aPathOutsideTheInvocationDirectoryIsDeniedAndTheDenialIsInTraceAndAnswer() throws Exception {
        Path outside = Files.createTempDirectory("agentfn-outside").resolve("escape.txt");
        try {
            fake.enqueue(FakeTurn.toolUse("Writing outside.", new ToolCall("toolu_x1", "Write",
                    Map.of("file_path", outside.toString(), "content", "nope"))));
            // The fake's echo scenario then repeats the tool result, as a model relaying the refusal would.
            var r = invoke("{\"prompt\":\"Write outside\",\"engine\":\"claude-code\"}").statusCode(200)
                    .body("output", containsString("outside the invocation's working directory")).extract();
            assertFalse(Files.exists(outside), "the denied Write did not run");
            JsonNode t = trace(r.path("trace.id"));
            JsonNode write = spans(t, "TOOL").get(0);
            assertEquals("tool_Write", write.get("name").asText());
            assertEquals("ERROR", write.get("status").asText());
            assertTrue(write.at("/attributes/claude_code.permission_denied").asText()
                    .contains("outside the invocation's working directory"));
            assertTrue(write.get("events").toString().contains("deny"));
            assertEquals(40, write.at("/attributes/mlflow.spanLogLevel").asInt(), "an error span is at ERROR level");
            JsonNode root = spans(t, "AGENT").get(0);
            assertTrue(root.at("/attributes/claude_code.permission_denials").toString().contains("Write"));
        } finally {
            Files.deleteIfExists(outside);
            Files.deleteIfExists(outside.getParent());
        }
    }

    @Test
    void aSecondRequestWithTheSameSessionIdResumesTheCliSession() {
        String session = "resume-" + UUID.randomUUID();
        fake.enqueue(FakeTurn.text("Noted: 42."), FakeTurn.text("You said 42."));
        String first = invoke("{\"prompt\":\"Remember the number 42\",\"engine\":\"claude-code\",\"session_id\":\""
                + session + "\"}").statusCode(200).body("session_id", equalTo(session)).extract().path("trace.id");
        String second = invoke("{\"prompt\":\"Which number?\",\"engine\":\"claude-code\",\"session_id\":\""
                + session + "\"}").statusCode(200).body("output", equalTo("You said 42."))
                .body("session_id", equalTo(session)).extract().path("trace.id");

        List<RecordedRequest> sent = fake.messageRequests();
        String resumed = sent.get(sent.size() - 1).json().get("messages").toString();
        assertTrue(resumed.contains("Remember the number 42") && resumed.contains("Noted: 42."),
                "the resumed CLI sent the earlier turns: " + resumed);
        JsonNode t1 = trace(first);
        JsonNode t2 = trace(second);
        assertEquals(session, t1.at("/metadata/mlflow.trace.session").asText());
        assertEquals(session, t2.at("/metadata/mlflow.trace.session").asText());
        assertEquals("false", spans(t1, "AGENT").get(0).at("/attributes/claude_code.resumed").asText());
        assertEquals("true", spans(t2, "AGENT").get(0).at("/attributes/claude_code.resumed").asText());
        assertEquals(spans(t1, "AGENT").get(0).at("/attributes/claude_code.session_id").asText(),
                spans(t2, "AGENT").get(0).at("/attributes/claude_code.session_id").asText());
    }

    @Test
    void deadlineInterruptsAndKillsTheCliAndTheTraceIsAnError() throws Exception {
        // The test profile's invocation deadline is 6 s; the model answers after 40 s.
        fake.enqueue(FakeTurn.text("too late").withLatency(Duration.ofSeconds(40)));
        var r = invoke("{\"prompt\":\"Take your time\",\"engine\":\"claude-code\"}").statusCode(504)
                .contentType("application/problem+json").body("type", containsString("deadline")).extract();
        assertNoCliProcess();
        JsonNode t = trace(r.path("trace_id"));
        assertEquals("ERROR", t.get("state").asText());
        JsonNode root = spans(t, "AGENT").get(0);
        assertEquals("ERROR", root.get("status").asText());
    }

    @Test
    void anUnknownCliToolIsABadRequestAndNoProcessStarts() {
        invoke("{\"prompt\":\"x\",\"engine\":\"claude-code\",\"tools\":[\"Bash\"]}").statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("agentfn.claude-code.allowed-tools"));
        invoke("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},"
                + "{\"role\":\"user\",\"content\":\"c\"}],\"engine\":\"claude-code\"}").statusCode(400)
                .body("detail", containsString("session_id"));
        assertEquals(0, fake.messageRequests().size());
    }

    @Test
    void aRefusedRequestIsA502LikeTheMessagesEngineAfterTheCliOwnRetries() {
        for (int i = 0; i < 8; i++) {
            fake.enqueue(FakeTurn.error(400, "invalid_request_error", "prompt is malformed", Map.of()));
        }
        var r = invoke("{\"prompt\":\"bad\",\"engine\":\"claude-code\"}").statusCode(502)
                .contentType("application/problem+json").body("detail", containsString("invalid_request_error"))
                .body("detail", containsString("HTTP 400")).extract();
        assertTrue(fake.messageRequests().size() >= 2, "the CLI re-sends a 400 with fewer betas (spec 3.7)");
        JsonNode t = trace(r.path("trace_id"));
        assertEquals("ERROR", t.get("state").asText());
    }

    @Test
    void overloadIsA503AfterAsManyCliRetriesAsTheMessagesEngineMakes() {
        for (int i = 0; i < 5; i++) {
            fake.enqueue(FakeTurn.error(529, "overloaded_error", "Overloaded", Map.of("retry-after", "0")));
        }
        var r = invoke("{\"prompt\":\"busy?\",\"engine\":\"claude-code\"}").statusCode(503)
                .contentType("application/problem+json").body("detail", containsString("overloaded_error")).extract();
        assertEquals(3, fake.messageRequests().size(), "agentfn.anthropic.max-retries=2 bounds the CLI's retries");
        JsonNode t = trace(r.path("trace_id"));
        JsonNode root = spans(t, "AGENT").get(0);
        assertEquals(2, root.get("events").findValues("name").stream().filter(n -> n.asText().equals("api_retry")).count());
        assertTrue(t.get("response_preview").asText().contains("overloaded_error"),
                "the trace list shows the error: " + t.get("response_preview"));
    }

    @Test
    void streamingRelaysTextToolCallsAndResultsThenDone() {
        String session = UUID.randomUUID().toString();
        fake.enqueue(FakeTurn.toolUse("Looking.", new ToolCall("toolu_g1", "Glob", Map.of("pattern", "*.md"))),
                FakeTurn.text("Nothing there."));
        String body = given().contentType("application/json").accept("text/event-stream")
                .body("{\"prompt\":\"List md files\",\"engine\":\"claude-code\",\"session_id\":\"" + session + "\"}")
                .when().post("/v1/invocations").then().statusCode(200).extract().asString();
        int text = body.indexOf("text_delta");
        int call = body.indexOf("tool_call");
        int result = body.indexOf("tool_result");
        int done = body.indexOf("event:done");
        assertTrue(text >= 0 && call > text && result > call && done > result, body);
        assertTrue(body.contains("\"name\":\"Glob\"") && body.contains("Nothing there."), body);
    }

    @Test
    void aClientThatDisconnectsMidStreamGetsItsCliProcessKilled() throws Exception {
        disconnectWhileTheModelThinks("text/event-stream");
    }

    @Test
    void aClientThatHangsUpOnAJsonRequestGetsItsCliProcessKilled() throws Exception {
        disconnectWhileTheModelThinks("application/json");
    }

    private void disconnectWhileTheModelThinks(String accept) throws Exception {
        fake.enqueue(FakeTurn.text("never read").withLatency(Duration.ofSeconds(5)));
        String json = "{\"prompt\":\"slow\",\"engine\":\"claude-code\"}";
        int port = io.restassured.RestAssured.port;
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.getOutputStream().write(("POST /v1/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Accept: " + accept + "\r\nContent-Length: " + json.length() + "\r\n\r\n" + json)
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            while (fake.messageRequests().isEmpty() && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertFalse(fake.messageRequests().isEmpty(), "the CLI called the model");
        }
        // The socket is closed long before the model would answer (5 s) or the deadline (6 s) passes.
        long start = System.nanoTime();
        assertNoCliProcess();
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(3).toNanos(), "killed on disconnect, not at the deadline");
    }

    static JsonNode read(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
