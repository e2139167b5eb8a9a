package dev.agentfn.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.standin.RecordedRequest;
import dev.agentfn.standin.ToolCall;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.ToolServerResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@QuarkusTest
class ConversationFlowTest {
    static final ObjectMapper JSON = new ObjectMapper();
    FakeAnthropicServer fake = FakeAnthropicResource.fake();

    @BeforeEach
    void reset() {
        fake.reset();
        ToolServerResource.CALLS.clear();
    }

    private static io.restassured.response.ValidatableResponse invoke(String body) {
        return given().contentType("application/json").body(body).when().post("/v1/invocations").then();
    }

    @Test
    void threeTurnToolLoopRunsParallelHttpToolsAndSendsResultsBack() throws Exception {
        fake.enqueue(
                FakeTurn.toolUse("Let me check.", new ToolCall("toolu_w", "weather", Map.of("city", "Paris")),
                        new ToolCall("toolu_c", "clock", Map.of())),
                FakeTurn.toolUse(null, new ToolCall("toolu_c2", "clock", Map.of())),
                FakeTurn.text("Sunny, 21 C, noon."));
        invoke("{\"prompt\":\"Weather and time in Paris?\",\"tools\":[\"weather\",\"clock\"]}")
                .statusCode(200).body("output", equalTo("Sunny, 21 C, noon.")).body("turns", equalTo(3))
                .body("stop_reason", equalTo("end_turn"));

        List<RecordedRequest> sent = fake.messageRequests();
        assertEquals(3, sent.size());
        assertEquals(List.of("weather", "clock"), names(sent.get(0).json().get("tools")));
        JsonNode second = sent.get(1).json().get("messages");
        assertEquals(3, second.size());
        assertEquals("assistant", second.get(1).get("role").asText());
        assertEquals(JSON.readTree(sent.get(0).json().toString()).get("messages").get(0), second.get(0));
        JsonNode results = second.get(2).get("content");
        assertEquals("tool_result", results.get(0).get("type").asText());
        assertEquals("toolu_w", results.get(0).get("tool_use_id").asText());
        assertTrue(results.get(0).get("content").asText().contains("\"temp_c\":21"));
        assertEquals("toolu_c", results.get(1).get("tool_use_id").asText());
        assertEquals("{\"city\":\"Paris\"}", ToolServerResource.CALLS.stream()
                .filter(c -> c.path().equals("/weather")).findFirst().orElseThrow().body());

        var firstTurnCalls = ToolServerResource.CALLS.subList(0, 2);
        var a = firstTurnCalls.get(0);
        var b = firstTurnCalls.get(1);
        assertTrue(a.startNanos() < b.endNanos() && b.startNanos() < a.endNanos(), "the two tool calls overlapped");
        assertEquals(5, sent.get(2).json().get("messages").size());
    }

    @Test
    void failingToolBecomesAnErrorResultTheModelSees() {
        fake.enqueue(FakeTurn.toolUse(null, new ToolCall("toolu_b", "broken", Map.of())), FakeTurn.text("Sorry."));
        invoke("{\"prompt\":\"Try it\"}").statusCode(200).body("output", equalTo("Sorry."));
        JsonNode result = fake.messageRequests().get(1).json().at("/messages/2/content/0");
        assertEquals(true, result.get("is_error").asBoolean());
        assertTrue(result.get("content").asText().contains("HTTP 500"));
    }

    @Test
    void pauseTurnResendsTheConversationWithoutANewUserTurn() {
        fake.enqueue(FakeTurn.text("Searching…").withStopReason("pause_turn"), FakeTurn.text("Found it."));
        invoke("{\"prompt\":\"Search\"}").statusCode(200).body("output", equalTo("Found it.")).body("turns", equalTo(2));
        JsonNode messages = fake.messageRequests().get(1).json().get("messages");
        assertEquals(2, messages.size());
        assertEquals("assistant", messages.get(1).get("role").asText());
        assertEquals("Searching…", messages.get(1).at("/content/0/text").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"max_tokens", "refusal", "stop_sequence", "model_context_window_exceeded"})
    void terminalStopReasonsEndTheConversation(String reason) {
        fake.enqueue(FakeTurn.text("partial").withStopReason(reason));
        invoke("{\"prompt\":\"Go\"}").statusCode(200).body("stop_reason", equalTo(reason)).body("turns", equalTo(1))
                .body("output", equalTo("partial"));
        assertEquals(1, fake.messageRequests().size());
    }

    @Test
    void maxTurnsCapsTheLoop() {
        fake.enqueue(FakeTurn.toolUse(null, new ToolCall("t1", "clock", Map.of())),
                FakeTurn.toolUse(null, new ToolCall("t2", "clock", Map.of())));
        invoke("{\"prompt\":\"Loop\",\"max_turns\":2}").statusCode(200).body("stop_reason", equalTo("max_turns"))
                .body("turns", equalTo(2));
        assertEquals(2, fake.messageRequests().size());
    }

    @Test
    void retryAfterOn429IsHonouredThenSucceeds() {
        fake.enqueue(FakeTurn.error(429, "rate_limit_error", "slow down", Map.of("retry-after", "1")),
                FakeTurn.text("ok"));
        invoke("{\"prompt\":\"Hi\"}").statusCode(200).body("output", equalTo("ok"));
        List<RecordedRequest> sent = fake.messageRequests();
        assertEquals(2, sent.size());
        long waitedMs = (sent.get(1).receivedNanos() - sent.get(0).receivedNanos()) / 1_000_000;
        assertTrue(waitedMs >= 1000, "waited " + waitedMs + " ms, the server asked for 1 s");
        assertEquals("0", sent.get(0).header("x-stainless-retry-count"));
        assertEquals("1", sent.get(1).header("x-stainless-retry-count"));
    }

    @Test
    void overloaded529TwiceThenSuccess() {
        fake.enqueue(FakeTurn.error(529), FakeTurn.error(529), FakeTurn.text("finally"));
        invoke("{\"prompt\":\"Hi\"}").statusCode(200).body("output", equalTo("finally"));
        assertEquals(3, fake.messageRequests().size());
    }

    @Test
    void overloadedBeyondRetriesIs503WithRetryAfter() {
        fake.enqueue(FakeTurn.error(529), FakeTurn.error(529), FakeTurn.error(529));
        invoke("{\"prompt\":\"Hi\"}").statusCode(503).contentType(Problem.MEDIA_TYPE)
                .header("Retry-After", notNullValue()).body("detail", containsString("overloaded_error"))
                .body("trace_id", notNullValue());
        assertEquals(3, fake.messageRequests().size());
    }

    @Test
    void midStreamErrorBeforeAnythingWasRelayedIsRetried() {
        fake.enqueue(FakeTurn.midStreamError("overloaded_error", "Overloaded", 1), FakeTurn.text("recovered"));
        invoke("{\"prompt\":\"Hi\"}").statusCode(200).body("output", equalTo("recovered"));
        assertEquals(2, fake.messageRequests().size());
    }

    @Test
    void droppedConnectionIsRetried() {
        fake.enqueue(FakeTurn.dropConnection(1), FakeTurn.text("recovered"));
        invoke("{\"prompt\":\"Hi\"}").statusCode(200).body("output", equalTo("recovered"));
        assertEquals(2, fake.messageRequests().size());
    }

    @Test
    void deadlineExceededIs504() {
        fake.enqueue(FakeTurn.text("too late").withLatency(Duration.ofSeconds(9)));
        invoke("{\"prompt\":\"Hi\"}").statusCode(504).contentType(Problem.MEDIA_TYPE)
                .body("title", equalTo("Invocation deadline exceeded")).body("trace_id", notNullValue());
    }

    @Test
    void upstreamBadRequestIs502NamingTheErrorType() {
        fake.enqueue(FakeTurn.error(400, "invalid_request_error", "max_tokens: too large", Map.of()));
        invoke("{\"prompt\":\"Hi\"}").statusCode(502).contentType(Problem.MEDIA_TYPE)
                .body("detail", containsString("invalid_request_error"));
        assertEquals(1, fake.messageRequests().size());
    }

    @Test
    void upstreamAuthFailureIs502WithoutEchoingTheKey() {
        fake.enqueue(FakeTurn.error(401));
        invoke("{\"prompt\":\"Hi\"}").statusCode(502).body("title", equalTo("Upstream credentials rejected"))
                .body(not(containsString(FakeAnthropicResource.TEST_API_KEY)));
    }

    @Test
    void streamingRelaysDeltasToolsAndEndsWithDone() throws Exception {
        fake.enqueue(FakeTurn.toolUse("Checking the clock.", new ToolCall("toolu_s", "clock", Map.of())),
                FakeTurn.text("It is noon in Paris, enjoy."));
        String body = given().contentType("application/json").accept("text/event-stream")
                .body("{\"prompt\":\"Time?\"}").when().post("/v1/invocations")
                .then().statusCode(200).contentType(containsString("text/event-stream")).extract().asString();
        List<String[]> events = sse(body);
        List<String> names = events.stream().map(e -> e[0]).toList();
        assertEquals("done", names.get(names.size() - 1));
        assertEquals(1, names.stream().filter("done"::equals).count());
        assertTrue(names.indexOf("tool_call") < names.indexOf("tool_result"));
        StringBuilder text = new StringBuilder();
        events.stream().filter(e -> e[0].equals("text_delta"))
                .forEach(e -> text.append(read(e[1]).get("text").asText()));
        assertEquals("Checking the clock.It is noon in Paris, enjoy.", text.toString());
        JsonNode done = read(events.get(events.size() - 1)[1]);
        assertEquals("It is noon in Paris, enjoy.", done.get("output").asText());
        assertEquals(2, done.get("turns").asInt());
    }

    @Test
    void streamingIsNotRetriedOnceDeltasWereRelayed() {
        fake.enqueue(FakeTurn.midStreamError("overloaded_error", "Overloaded", 2), FakeTurn.text("never sent"));
        String body = given().contentType("application/json").accept("text/event-stream")
                .body("{\"prompt\":\"Hi\"}").when().post("/v1/invocations").then().statusCode(200).extract().asString();
        List<String[]> events = sse(body);
        assertEquals("error", events.get(events.size() - 1)[0]);
        assertEquals(503, read(events.get(events.size() - 1)[1]).get("status").asInt());
        assertEquals(1, fake.messageRequests().size());
    }

    static List<String[]> sse(String body) {
        List<String[]> events = new ArrayList<>();
        for (String frame : body.split("\n\n")) {
            String name = null;
            StringBuilder data = new StringBuilder();
            for (String line : frame.split("\n")) {
                if (line.startsWith("event:")) {
                    name = line.substring(6).trim();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring(5).trim());
                }
            }
            if (name != null) {
                events.add(new String[] {name, data.toString()});
            }
        }
        return events;
    }

    static JsonNode read(String s) {
        try {
            return JSON.readTree(s);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }

    private static List<String> names(JsonNode tools) {
        List<String> out = new ArrayList<>();
        tools.forEach(t -> out.add(t.get("name").asText()));
        return out;
    }
}
