package dev.agentfn.standin;

import static dev.agentfn.standin.FakeHttp.json;
import static dev.agentfn.standin.FakeHttp.parseSse;
import static dev.agentfn.standin.FakeHttp.types;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.standin.FakeHttp.SseEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SSE shape (spec §1.4): exact event order and data for each kind of turn and failure. */
class FakeStreamingTest extends FakeServerTestBase {
    @Test
    void textTurnStreamsExactFramesInOrder() {
        fake.enqueue(FakeTurn.text("Hello, world! How are you?"));
        String body = FakeHttp.body(true, "Hi");
        HttpResponse<String> response = FakeHttp.messages(fake, body);

        assertEquals(200, response.statusCode());
        assertEquals("text/event-stream", response.headers().firstValue("content-type").orElseThrow());
        assertTrue(response.headers().firstValue("request-id").orElseThrow().startsWith("req_"));
        List<SseEvent> events = parseSse(response.body());
        assertEquals(List.of("message_start", "content_block_start", "ping", "content_block_delta",
                "content_block_delta", "content_block_delta", "content_block_stop", "message_delta",
                "message_stop"), types(events));
        int in = body.length() / 4;
        assertMessageStart(events.get(0), in);
        assertData(events.get(1), "{\"type\":\"content_block_start\",\"index\":0,"
                + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
        assertData(events.get(2), "{\"type\":\"ping\"}");
        assertData(events.get(3), textDelta("Hello, wor"));
        assertData(events.get(4), textDelta("ld! How ar"));
        assertData(events.get(5), textDelta("e you?"));
        assertData(events.get(6), "{\"type\":\"content_block_stop\",\"index\":0}");
        assertData(events.get(7), "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
                + "\"stop_sequence\":null},\"usage\":{\"input_tokens\":" + in + ",\"cache_creation_input_tokens\":0,"
                + "\"cache_read_input_tokens\":0,\"output_tokens\":6}}");
        assertData(events.get(8), "{\"type\":\"message_stop\"}");
    }

    @Test
    void toolUseTurnStreamsInputJsonDeltas() {
        fake.enqueue(FakeTurn.toolUse("Checking.", new ToolCall("toolu_1", "get_weather", Map.of("city", "Paris"))));
        List<SseEvent> events = parseSse(FakeHttp.messages(fake, FakeHttp.body(true, "Weather?")).body());

        assertEquals(List.of("message_start", "content_block_start", "ping", "content_block_delta",
                "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta",
                "content_block_stop", "message_delta", "message_stop"), types(events));
        assertData(events.get(5), "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
                + "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}");
        assertData(events.get(6), "{\"type\":\"content_block_delta\",\"index\":1,"
                + "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\\\"P\"}}");
        assertEquals("{\"city\":\"Paris\"}", FakeHttp.joinedDeltas(events, 1, "partial_json"));
        assertEquals("Checking.", FakeHttp.joinedDeltas(events, 0, "text"));
        JsonNode delta = events.get(9).data();
        assertEquals("tool_use", delta.at("/delta/stop_reason").asText());
        assertEquals((9 + 16) / 4, delta.at("/usage/output_tokens").asInt());
    }

    @Test
    void thinkingStreamsThinkingThenSignatureDelta() {
        FakeTurn.Reply turn = FakeTurn.thinking("Let me think.", "Done.");
        fake.enqueue(turn);
        List<SseEvent> events = parseSse(FakeHttp.messages(fake, FakeHttp.body(true, "Q")).body());

        assertEquals(List.of("message_start", "content_block_start", "ping", "content_block_delta",
                "content_block_delta", "content_block_delta", "content_block_stop", "content_block_start",
                "content_block_delta", "content_block_stop", "message_delta", "message_stop"), types(events));
        assertData(events.get(1), "{\"type\":\"content_block_start\",\"index\":0,"
                + "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}");
        assertEquals("Let me think.", FakeHttp.joinedDeltas(events, 0, "thinking"));
        String signature = ((FakeBlock.Thinking) turn.content().get(0)).signature();
        assertData(events.get(5), "{\"type\":\"content_block_delta\",\"index\":0,"
                + "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"" + signature + "\"}}");
    }

    @Test
    void usageOverrideAppearsInStartAndCumulativeDelta() {
        fake.enqueue(FakeTurn.text("x").withUsage(100, 42, 7, 3).withStopReason("max_tokens"));
        List<SseEvent> events = parseSse(FakeHttp.messages(fake, FakeHttp.body(true, "Q")).body());

        JsonNode start = events.get(0).data().at("/message/usage");
        assertEquals(100, start.get("input_tokens").asInt());
        assertEquals(7, start.get("cache_read_input_tokens").asInt());
        assertEquals(3, start.get("cache_creation_input_tokens").asInt());
        assertEquals(1, start.get("output_tokens").asInt());
        JsonNode end = events.get(events.size() - 2).data();
        assertEquals("max_tokens", end.at("/delta/stop_reason").asText());
        assertEquals(42, end.at("/usage/output_tokens").asInt());
        assertEquals(100, end.at("/usage/input_tokens").asInt());
    }

    @Test
    void midStreamErrorSendsErrorFrameAfter200() {
        fake.enqueue(FakeTurn.midStreamError("overloaded_error", "Overloaded", 1));
        HttpResponse<String> response = FakeHttp.messages(fake, FakeHttp.body(true, "Q"));

        assertEquals(200, response.statusCode());
        List<SseEvent> events = parseSse(response.body());
        assertEquals(List.of("message_start", "content_block_start", "ping", "content_block_delta",
                "content_block_delta", "content_block_stop", "error"), types(events));
        assertData(events.get(6), "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}");
    }

    @Test
    void midStreamErrorOnJsonRequestIsAStatusError() {
        fake.enqueue(FakeTurn.midStreamError("overloaded_error", "Overloaded", 1));
        HttpResponse<String> response = FakeHttp.messages(fake, FakeHttp.body(false, "Q"));

        assertEquals(529, response.statusCode());
        assertEquals("overloaded_error", json(response.body()).at("/error/type").asText());
    }

    @Test
    void droppedConnectionDeliversPartialStreamThenFails() throws Exception {
        fake.enqueue(FakeTurn.dropConnection(1));
        HttpResponse<InputStream> response = FakeHttp.CLIENT.send(
                FakeHttp.messagesRequest(fake, "/v1/messages", FakeHttp.body(true, "Q"))
                        .header("x-api-key", "k").header("anthropic-version", "2023-06-01").build(),
                HttpResponse.BodyHandlers.ofInputStream());

        assertEquals(200, response.statusCode());
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try (InputStream in = response.body()) {
            assertThrows(IOException.class, () -> in.transferTo(received));
        }
        String partial = received.toString(StandardCharsets.UTF_8);
        assertTrue(partial.contains("event: content_block_stop"), partial);
        assertFalse(partial.contains("message_stop"), partial);
    }

    @Test
    void droppedConnectionOnJsonRequestFailsWithoutResponse() {
        fake.enqueue(FakeTurn.dropConnection(0));
        assertThrows(IOException.class, () -> FakeHttp.CLIENT.send(
                FakeHttp.messagesRequest(fake, "/v1/messages", FakeHttp.body(false, "Q"))
                        .header("x-api-key", "k").header("anthropic-version", "2023-06-01").build(),
                HttpResponse.BodyHandlers.ofString()));
    }

    private static String textDelta(String text) {
        return "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\""
                + text + "\"}}";
    }

    private static void assertData(SseEvent event, String expectedJson) {
        assertEquals(event.event(), event.data().get("type").asText(), "event name must match data.type");
        assertEquals(json(expectedJson), event.data());
    }

    private static void assertMessageStart(SseEvent event, int inputTokens) {
        ObjectNode message = (ObjectNode) event.data().get("message");
        assertTrue(message.remove("id").asText().startsWith("msg_"));
        assertEquals(json("{\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-test-1\","
                + "\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":"
                + inputTokens + ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
                + "\"output_tokens\":1,\"service_tier\":\"standard\"},\"container\":null,\"stop_details\":null}"), message);
    }
}
