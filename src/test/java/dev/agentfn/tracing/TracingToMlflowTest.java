package dev.agentfn.tracing;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeBlock;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.standin.ToolCall;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Traces as MLflow itself returns them: read back with MLflow's Python client. */
@QuarkusTest
class TracingToMlflowTest {
    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());

    @BeforeEach
    void reset() {
        fake.reset();
    }

    /** get_trace through MLflow's own parser, flattened to JSON. */
    JsonNode trace(String traceId) {
        return python.json("""
                import mlflow, json
                t = mlflow.get_trace("%s")
                spans = [{"name": s.name, "span_id": s.span_id, "parent_id": s.parent_id, "span_type": s.span_type,
                          "inputs": s.inputs, "outputs": s.outputs, "start": s.start_time_ns, "end": s.end_time_ns,
                          "status": s.status.status_code.value if hasattr(s.status.status_code, "value") else str(s.status.status_code),
                          "events": [e.name for e in s.events],
                          "attributes": {k: v for k, v in s.attributes.items()}} for s in t.data.spans]
                print(json.dumps({"state": str(t.info.state.value if hasattr(t.info.state, "value") else t.info.state),
                                  "request_preview": t.info.request_preview, "response_preview": t.info.response_preview,
                                  "metadata": t.info.trace_metadata, "tags": t.info.tags, "spans": spans,
                                  "json": t.to_json()}, default=str))
                """.formatted(traceId));
    }

    static JsonNode span(JsonNode trace, String name) {
        for (JsonNode s : trace.get("spans")) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no span " + name + " in " + trace.get("spans"));
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

    @Test
    void plainAnswerIsOneTraceWithAgentRootAndOneChatModelSpan() {
        fake.enqueue(FakeTurn.text("Paris.").withUsage(12, 7, 3, 2));
        String traceId = given().contentType("application/json")
                .body("{\"prompt\":\"Capital of France?\",\"session_id\":\"s-plain\",\"user\":\"ada\",\"metadata\":{\"team\":\"geo\"}}")
                .when().post("/v1/invocations").then().statusCode(200).body("trace.export", equalTo("delivered"))
                .extract().path("trace.id");
        JsonNode t = trace(traceId);
        assertEquals("OK", t.get("state").asText());
        assertEquals("Capital of France?", t.get("request_preview").asText());
        assertEquals("Paris.", t.get("response_preview").asText());
        assertEquals("s-plain", t.at("/metadata/mlflow.trace.session").asText());
        assertEquals("ada", t.at("/metadata/mlflow.trace.user").asText());
        assertEquals("3", t.at("/metadata/mlflow.trace_schema.version").asText());
        assertEquals("agent_invocation", t.at("/tags/mlflow.traceName").asText());
        assertEquals("geo", t.at("/tags/team").asText());
        JsonNode usage = read(t.at("/metadata/mlflow.trace.tokenUsage").asText());
        assertEquals(17, usage.get("input_tokens").asInt(), "input includes cache reads and writes");
        assertEquals(7, usage.get("output_tokens").asInt());
        assertEquals(24, usage.get("total_tokens").asInt());

        assertEquals(2, t.get("spans").size());
        JsonNode root = span(t, "agent_invocation");
        assertEquals("AGENT", root.get("span_type").asText());
        assertTrue(root.get("parent_id").isNull());
        assertEquals("Capital of France?", root.at("/inputs/prompt").asText());
        assertEquals("Paris.", root.at("/outputs/response").asText());
        assertEquals("claude-sonnet-5-5", root.at("/inputs/options/model").asText());
        JsonNode chat = span(t, "Messages.create");
        assertEquals("CHAT_MODEL", chat.get("span_type").asText());
        assertEquals(root.get("span_id").asText(), chat.get("parent_id").asText());
        assertEquals("anthropic", chat.at("/attributes/mlflow.message.format").asText());
        assertEquals("Capital of France?", chat.at("/inputs/messages/0/content").asText());
        assertEquals("Paris.", chat.at("/outputs/content/0/text").asText());
        assertEquals(17, chat.at("/attributes/mlflow.chat.tokenUsage/input_tokens").asInt());
        assertEquals(3, chat.at("/attributes/mlflow.chat.tokenUsage/cache_read_input_tokens").asInt());
        assertTrue(chat.at("/attributes/anthropic.request_id").asText().startsWith("req_"));
        assertFalse(t.get("json").asText().contains(FakeAnthropicResource.TEST_API_KEY));
        // MLflow's span filter: AGENT and CHAT_MODEL spans are INFO (20), as MLflow 3.17.2 sets them
        assertEquals(20, root.at("/attributes/mlflow.spanLogLevel").asInt(), root.get("attributes").toString());
        assertEquals(20, chat.at("/attributes/mlflow.spanLogLevel").asInt(), chat.get("attributes").toString());
    }

    @Test
    void toolLoopSpansFormTheRightTreeWithRealNonOverlappingTimings() {
        fake.enqueue(
                FakeTurn.toolUse(null, new ToolCall("toolu_1", "weather", Map.of("city", "Oslo"))),
                FakeTurn.toolUse(null, new ToolCall("toolu_2", "clock", Map.of())),
                FakeTurn.text("Cold and late."));
        String traceId = given().contentType("application/json").body("{\"prompt\":\"Oslo?\"}")
                .when().post("/v1/invocations").then().statusCode(200).extract().path("trace.id");
        JsonNode t = trace(traceId);
        JsonNode root = span(t, "agent_invocation");
        List<JsonNode> chats = spans(t, "CHAT_MODEL");
        List<JsonNode> tools = spans(t, "TOOL");
        assertEquals(3, chats.size());
        assertEquals(2, tools.size());
        assertEquals("tool_weather", tools.get(0).get("name").asText());
        assertEquals("Oslo", tools.get(0).at("/inputs/city").asText());
        assertTrue(tools.get(0).at("/outputs/result/temp_c").isNumber(), "a JSON result is recorded as JSON: "
                + tools.get(0).get("outputs"));
        assertEquals(false, tools.get(0).at("/attributes/tool.is_error").asBoolean(true));
        assertEquals("toolu_1", tools.get(0).at("/attributes/gen_ai.tool.call.id").asText());
        for (JsonNode s : tools) {
            assertEquals(20, s.at("/attributes/mlflow.spanLogLevel").asInt(), "a TOOL span is INFO");
            assertEquals(root.get("span_id").asText(), s.get("parent_id").asText());
            long ms = (s.get("end").asLong() - s.get("start").asLong()) / 1_000_000;
            assertTrue(ms >= 300, "the tool server takes 300 ms, the span says " + ms);
            assertTrue(s.get("start").asLong() >= root.get("start").asLong() && s.get("end").asLong() <= root.get("end").asLong());
        }
        for (int i = 0; i < 2; i++) {
            assertTrue(tools.get(i).get("start").asLong() >= chats.get(i).get("end").asLong(), "tool starts after its model call");
            assertTrue(chats.get(i + 1).get("start").asLong() >= tools.get(i).get("end").asLong(), "next call after the tool");
        }
    }

    @Test
    void streamedTraceIsInMlflowBeforeDone() {
        fake.enqueue(FakeTurn.text("Streaming answer."));
        String body = given().contentType("application/json").accept("text/event-stream").body("{\"prompt\":\"S?\"}")
                .when().post("/v1/invocations").then().statusCode(200).extract().asString();
        var events = dev.agentfn.api.ConversationFlowTestSupport.sse(body);
        var last = events.get(events.size() - 1);
        assertEquals("done", last[0]);
        JsonNode done = read(last[1]);
        assertEquals("delivered", done.at("/trace/export").asText());
        given().baseUri(MlflowServerResource.server().uri().toString())
                .get("/api/3.0/mlflow/traces/" + done.at("/trace/id").asText())
                .then().statusCode(200);
    }

    @Test
    void upstreamFailureGivesAnErrorTraceWithAnExceptionEvent() {
        fake.enqueue(FakeTurn.error(400, "invalid_request_error", "bad things", Map.of()));
        String traceId = given().contentType("application/json").body("{\"prompt\":\"Fail\"}")
                .when().post("/v1/invocations").then().statusCode(502).extract().path("trace_id");
        JsonNode t = trace(traceId);
        assertEquals("ERROR", t.get("state").asText());
        JsonNode root = span(t, "agent_invocation");
        assertTrue(root.get("events").toString().contains("exception"));
        JsonNode chat = span(t, "Messages.create");
        assertTrue(chat.get("events").toString().contains("exception"));
        assertTrue(chat.get("status").asText().contains("ERROR"));
        // MLflow's trace list shows the error instead of an empty response; both spans are at ERROR level
        assertTrue(t.get("response_preview").asText().startsWith("Error: ")
                && t.get("response_preview").asText().contains("bad things"), t.get("response_preview").asText());
        assertEquals(40, root.at("/attributes/mlflow.spanLogLevel").asInt(), root.get("attributes").toString());
        assertEquals(40, chat.at("/attributes/mlflow.spanLogLevel").asInt(), chat.get("attributes").toString());
    }

    @Test
    void sessionAndUserAreSearchable() {
        String session = "s-" + UUID.randomUUID();
        fake.enqueue(FakeTurn.text("one"), FakeTurn.text("two"));
        for (int i = 0; i < 2; i++) {
            given().contentType("application/json").body("{\"prompt\":\"turn " + i + "\",\"session_id\":\"" + session
                    + "\",\"user\":\"grace-" + session + "\"}").when().post("/v1/invocations").then().statusCode(200);
        }
        JsonNode found = python.json("""
                import mlflow, json
                by_session = mlflow.search_traces(locations=["%1$s"], return_type="list",
                    filter_string="metadata.`mlflow.trace.session` = '%2$s'")
                by_user = mlflow.search_traces(locations=["%1$s"], return_type="list",
                    filter_string="metadata.`mlflow.trace.user` = 'grace-%2$s'")
                print(json.dumps({"session": len(by_session), "user": len(by_user)}))
                """.formatted(MlflowServerResource.experimentId(), session));
        assertEquals(2, found.get("session").asInt());
        assertEquals(2, found.get("user").asInt());
    }

    @Test
    void multiTurnInputPreviewsTheLastUserTurn() {
        fake.enqueue(FakeTurn.text("Lyon."));
        String traceId = given().contentType("application/json").body("""
                {"messages":[{"role":"user","content":"Capital of France?"},{"role":"assistant","content":"Paris."},
                 {"role":"user","content":[{"type":"text","text":"And its second city?"}]}]}""")
                .when().post("/v1/invocations").then().statusCode(200).extract().path("trace.id");
        JsonNode t = trace(traceId);
        assertEquals("And its second city?", t.get("request_preview").asText());
        assertEquals("Lyon.", t.get("response_preview").asText());
        assertEquals(3, span(t, "agent_invocation").at("/inputs/messages").size());
    }

    /**
     * A caller's traceparent is the parent, never the trace: two invocations sent with the same one are two
     * MLflow traces (each with its one root span, neither overwriting the other), both found by the caller's id.
     */
    @Test
    void invocationsWithTheSameTraceparentStayTwoTracesFoundByTheParentTraceId() {
        String parentTrace = UUID.randomUUID().toString().replace("-", "");
        String traceparent = "00-" + parentTrace + "-00f067aa0ba902b7-01";
        fake.enqueue(FakeTurn.text("first"), FakeTurn.text("second"));
        List<String> ids = new ArrayList<>();
        for (String prompt : List.of("one", "two")) {
            String id = given().contentType("application/json").header("traceparent", traceparent)
                    .body("{\"prompt\":\"" + prompt + "\"}").when().post("/v1/invocations").then().statusCode(200)
                    .extract().path("trace.id");
            ids.add(id);
        }
        assertNotEquals(ids.get(0), ids.get(1), "each invocation is its own trace");
        for (int i = 0; i < 2; i++) {
            assertNotEquals("tr-" + parentTrace, ids.get(i), "the caller's trace id is not taken over");
            JsonNode t = trace(ids.get(i));
            List<JsonNode> roots = new ArrayList<>();
            t.get("spans").forEach(s -> {
                if (s.get("parent_id").isNull()) {
                    roots.add(s);
                }
            });
            assertEquals(1, roots.size(), "exactly one root span: " + t.get("spans"));
            assertEquals(List.of("one", "two").get(i), t.get("request_preview").asText(), "not overwritten");
            assertEquals("00f067aa0ba902b7", roots.get(0).at("/attributes/agentfn.parent_span_id").asText());
            assertEquals(parentTrace, roots.get(0).at("/attributes/agentfn.parent_trace_id").asText());
            assertEquals(parentTrace, t.at("/metadata/agentfn.parent_trace_id").asText());
        }
        JsonNode found = python.json("""
                import mlflow, json
                ts = mlflow.search_traces(locations=["%1$s"], return_type="list",
                    filter_string="metadata.`agentfn.parent_trace_id` = '%2$s'")
                print(json.dumps(sorted(t.info.trace_id for t in ts)))
                """.formatted(MlflowServerResource.experimentId(), parentTrace));
        List<String> searched = new ArrayList<>();
        found.forEach(n -> searched.add(n.asText()));
        List<String> expected = new ArrayList<>(ids);
        expected.sort(null);
        assertEquals(expected, searched, "both found by the caller's trace id");
    }

    /** W3C: a receiver that cannot parse traceparent starts a new trace (no 400, no parent recorded). */
    @Test
    void malformedTraceparentIsIgnored() {
        fake.enqueue(FakeTurn.text("fresh"));
        String id = given().contentType("application/json")
                .header("traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01")
                .body("{\"prompt\":\"Hi\"}").when().post("/v1/invocations").then().statusCode(200)
                .extract().path("trace.id");
        JsonNode t = trace(id);
        assertTrue(span(t, "agent_invocation").at("/attributes/agentfn.parent_span_id").isMissingNode());
        assertTrue(t.at("/metadata/agentfn.parent_trace_id").isMissingNode());
    }

    @Test
    void retriesAreEventsOnTheChatModelSpan() {
        fake.enqueue(FakeTurn.error(529, "overloaded_error", "Overloaded", Map.of("retry-after", "0.2")),
                FakeTurn.text("after retry"));
        String traceId = given().contentType("application/json").body("{\"prompt\":\"Hi\"}")
                .when().post("/v1/invocations").then().statusCode(200).extract().path("trace.id");
        JsonNode chat = span(trace(traceId), "Messages.create");
        assertEquals("[\"retry\"]", chat.get("events").toString());
        assertEquals(2, chat.at("/attributes/agentfn.attempts").asInt());
    }

    @Test
    void serverToolUsesBecomeToolSpansUnderTheirModelCall() throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        fake.enqueue(FakeTurn.reply("end_turn",
                FakeBlock.raw((com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(
                        "{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{\"query\":\"mlflow\"}}")),
                FakeBlock.raw((com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(
                        "{\"type\":\"web_search_tool_result\",\"tool_use_id\":\"srvtoolu_1\",\"content\":[{\"type\":\"web_search_result\","
                                + "\"url\":\"https://mlflow.org\",\"title\":\"MLflow\",\"encrypted_content\":\"x\",\"page_age\":null}]}")),
                FakeBlock.text("MLflow is an ML platform.")));
        String traceId = given().contentType("application/json").body("{\"prompt\":\"What is MLflow?\"}")
                .when().post("/v1/invocations").then().statusCode(200)
                .body("output", equalTo("MLflow is an ML platform.")).extract().path("trace.id");
        JsonNode t = trace(traceId);
        JsonNode tool = span(t, "tool_web_search");
        assertEquals("TOOL", tool.get("span_type").asText());
        assertEquals(span(t, "Messages.create").get("span_id").asText(), tool.get("parent_id").asText());
        assertEquals("mlflow", tool.at("/inputs/query").asText());
        assertEquals("https://mlflow.org", tool.at("/outputs/result/0/url").asText());
        assertEquals("srvtoolu_1", tool.at("/attributes/gen_ai.tool.call.id").asText());
    }

    @Test
    void secretsInPromptsAreRedactedFromTraces() {
        fake.enqueue(FakeTurn.text("noted"));
        String traceId = given().contentType("application/json")
                .body("{\"prompt\":\"my key is " + FakeAnthropicResource.TEST_API_KEY + "\"}")
                .when().post("/v1/invocations").then().statusCode(200).extract().path("trace.id");
        JsonNode t = trace(traceId);
        assertFalse(t.toString().contains(FakeAnthropicResource.TEST_API_KEY));
        assertTrue(t.get("request_preview").asText().contains("[REDACTED]"));
    }

    static JsonNode read(String s) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(s);
        } catch (Exception e) {
            throw new AssertionError(s, e);
        }
    }
}
