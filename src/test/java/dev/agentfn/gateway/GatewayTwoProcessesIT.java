package dev.agentfn.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.standin.ToolCall;
import dev.agentfn.testing.AgentfnJar;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gateway as it is deployed on serverless platforms: the requests of one Claude Code turn land on two agentfn
 * processes (the packaged jar, twice) that share nothing but the MLflow server, alternately: A, B, A. The turn is
 * still one complete trace, with every model call, the tool calls timed across the instances, and the totals of
 * all three calls. (GatewayTwoInstancesTest shows the same in one JVM, at the level of the turn tracer.)
 */
class GatewayTwoProcessesIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String KEY = FakeAnthropicResource.TEST_API_KEY;
    static FakeAnthropicServer fake;
    static MlflowServer mlflow;
    static Path work;
    static final List<Process> apps = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        fake = new FakeAnthropicServer().start(0);
        mlflow = MlflowServer.startSqlite();
        work = Files.createTempDirectory(MlflowServer.projectDir().resolve("target"), "gateway-two-processes-it-");
    }

    @AfterAll
    static void stop() {
        apps.forEach(Process::destroyForcibly);
        if (mlflow != null) {
            mlflow.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    @Test
    void oneTurnAlternatingBetweenTwoProcessesIsOneCompleteTrace() throws Exception {
        AgentfnJar.Started a = app("a");
        AgentfnJar.Started b = app("b");
        int portA = a.awaitReady().port();
        int portB = b.awaitReady().port();
        String session = UUID.randomUUID().toString();
        fake.enqueue(FakeTurn.toolUse("Listing.", new ToolCall("toolu_2p_1", "Glob", Map.of("pattern", "*")))
                        .withUsage(100, 10, 0, 0),
                FakeTurn.toolUse("Reading.", new ToolCall("toolu_2p_2", "Read", Map.of("file_path", "a.txt")))
                        .withUsage(120, 11, 5, 0),
                FakeTurn.text("a.txt says hello").withUsage(140, 12, 0, 7));

        ArrayNode messages = JSON.createArrayNode();
        messages.addObject().put("role", "user").putArray("content").addObject().put("type", "text")
                .put("text", "What does a.txt say?");
        JsonNode first = send(portA, session, messages);
        messages.add(assistant(first));
        messages.add(toolResult("toolu_2p_1", "a.txt"));
        JsonNode second = send(portB, session, messages);
        messages.add(assistant(second));
        messages.add(toolResult("toolu_2p_2", "hello"));
        JsonNode third = send(portA, session, messages);
        assertEquals("end_turn", third.get("stop_reason").asText(), third.toString());

        JsonNode traces = new MlflowPython(mlflow).json("""
                import mlflow, json, time
                for _ in range(100):
                    found = mlflow.search_traces(experiment_ids=["0"], return_type="list",
                                                 filter_string="metadata.`mlflow.trace.session` = '%s'")
                    if found and all(str(getattr(t.info.state, "value", t.info.state)) == "OK" for t in found):
                        break
                    time.sleep(0.1)
                print(json.dumps([{"state": str(getattr(t.info.state, "value", t.info.state)),
                                   "usage": json.loads(t.info.trace_metadata.get("mlflow.trace.tokenUsage", "{}")),
                                   "spans": [{"name": s.name, "type": s.span_type, "parent": s.parent_id,
                                              "id": s.span_id, "start": s.start_time_ns, "end": s.end_time_ns}
                                             for s in t.data.spans]} for t in found], default=str))
                """.formatted(session));
        assertEquals(1, traces.size(), "one trace for the turn, not one per process or request: " + traces);
        JsonNode t = traces.get(0);
        assertEquals("OK", t.get("state").asText(), t.toString());
        List<String> names = new ArrayList<>();
        String root = null;
        for (JsonNode s : t.get("spans")) {
            names.add(s.get("name").asText());
            if (s.get("parent").isNull()) {
                root = s.get("id").asText();
            }
        }
        assertEquals(1, names.stream().filter("claude_code_conversation"::equals).count(), names.toString());
        assertEquals(3, names.stream().filter("llm"::equals).count(), "every model call, from both processes: " + names);
        assertTrue(names.contains("tool_Glob") && names.contains("tool_Read"), names.toString());
        for (JsonNode s : t.get("spans")) {
            if (!s.get("parent").isNull()) {
                assertEquals(root, s.get("parent").asText(), "all under the one root: " + s);
            }
            if (s.get("name").asText().startsWith("tool_")) {
                assertTrue(s.get("end").asLong() > s.get("start").asLong(), "the tool span is timed: " + s);
            }
        }
        JsonNode usage = t.get("usage");
        assertEquals(100 + 120 + 5 + 140 + 7, usage.get("input_tokens").asInt(), usage.toString());
        assertEquals(10 + 11 + 12, usage.get("output_tokens").asInt(), usage.toString());
        for (String name : List.of("a", "b")) {
            assertFalse(Files.readString(work.resolve(name + ".log")).contains(KEY), "the key is in no log");
        }
    }

    private static ObjectNode assistant(JsonNode answer) {
        ObjectNode m = JSON.createObjectNode().put("role", "assistant");
        m.set("content", answer.get("content"));
        return m;
    }

    private static ObjectNode toolResult(String id, String content) {
        ObjectNode m = JSON.createObjectNode().put("role", "user");
        m.putArray("content").addObject().put("type", "tool_result").put("tool_use_id", id).put("content", content);
        return m;
    }

    private static JsonNode send(int port, String session, ArrayNode messages) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("model", "claude-sonnet-5-5").put("max_tokens", 200);
        body.set("messages", messages);
        ObjectNode tool = body.putArray("tools").addObject().put("name", "Glob").put("description", "find files");
        tool.putObject("input_schema").put("type", "object");
        ObjectNode read = ((ArrayNode) body.get("tools")).addObject().put("name", "Read").put("description", "read");
        read.putObject("input_schema").put("type", "object");
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/messages"))
                .header("content-type", "application/json").header("x-api-key", KEY)
                .header("anthropic-version", "2023-06-01").header("x-claude-code-session-id", session)
                .header("user-agent", "claude-cli/2.1.330 (external, sdk-cli)").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
        HttpResponse<String> res = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, res.statusCode(), res.body());
        return JSON.readTree(res.body());
    }

    private static AgentfnJar.Started app(String name) throws IOException {
        Map<String, String> env = new HashMap<>();
        env.put("AGENTFN_GATEWAY_ENABLED", "true");
        env.put("ANTHROPIC_BASE_URL", fake.baseUrl());
        env.put("ANTHROPIC_API_KEY", null); // passthrough: the caller's key goes upstream
        env.put("AGENTFN_ANTHROPIC_STAND_IN", "never");
        env.put("MLFLOW_TRACKING_URI", mlflow.uri().toString());
        env.put("MLFLOW_EXPERIMENT_NAME", null);
        env.put("AGENTFN_TRACING_SPOOL_DIRECTORY", null);
        AgentfnJar.Started started = AgentfnJar.start(work, name, work.resolve(name + "-tmp"), env);
        apps.add(started.process());
        return started;
    }
}
