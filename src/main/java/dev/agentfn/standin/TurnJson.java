package dev.agentfn.standin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON forms used by the {@code /_fake} control endpoints (documented on {@link FakeAnthropicServer}). */
final class TurnJson {

    private TurnJson() {
    }

    /** Accepts a JSON array of turns or a single turn object. */
    static List<FakeTurn> parseTurns(JsonNode node) {
        List<FakeTurn> turns = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(t -> turns.add(parseTurn(t)));
        } else {
            turns.add(parseTurn(node));
        }
        return turns;
    }

    static FakeTurn parseTurn(JsonNode t) {
        FakeTurn turn = switch (require(t, "type").asText()) {
            case "text" -> reply(t, FakeTurn.text(require(t, "text").asText()));
            case "tool_use" -> reply(t, FakeTurn.toolUse(t.path("text").asText(null), calls(t)));
            case "reply" -> reply(t, FakeTurn.reply(t.path("stop_reason").asText("end_turn"), blocks(t)));
            case "error" -> error(t);
            case "mid_stream_error" -> FakeTurn.midStreamError(require(t, "error_type").asText(),
                    t.path("message").asText("Overloaded"), t.path("after_blocks").asInt(0));
            case "drop_connection" -> FakeTurn.dropConnection(t.path("after_blocks").asInt(0));
            default -> throw new IllegalArgumentException("unknown turn type: " + t.get("type"));
        };
        return t.has("latency_ms") ? turn.withLatency(Duration.ofMillis(t.get("latency_ms").asLong())) : turn;
    }

    private static FakeTurn.Reply reply(JsonNode t, FakeTurn.Reply base) {
        FakeTurn.Reply reply = base;
        if (t.hasNonNull("stop_reason")) {
            reply = reply.withStopReason(t.get("stop_reason").asText());
        }
        if (t.hasNonNull("stop_sequence")) {
            reply = reply.withStopSequence(t.get("stop_sequence").asText());
        }
        if (t.hasNonNull("thinking")) {
            reply = reply.withThinking(t.get("thinking").asText());
        }
        if (t.hasNonNull("usage")) {
            JsonNode u = t.get("usage");
            reply = reply.withUsage(u.path("input_tokens").asInt(1), u.path("output_tokens").asInt(1),
                    u.path("cache_read_input_tokens").asInt(0), u.path("cache_creation_input_tokens").asInt(0));
        }
        return reply;
    }

    private static FakeTurn.HttpError error(JsonNode t) {
        int status = require(t, "status").asInt();
        Map<String, String> headers = new LinkedHashMap<>();
        t.path("headers").fields().forEachRemaining(e -> headers.put(e.getKey(), e.getValue().asText()));
        return FakeTurn.error(status, t.path("error_type").asText(ApiErrors.typeFor(status)),
                t.path("message").asText(ApiErrors.messageFor(status)), headers);
    }

    private static ToolCall[] calls(JsonNode t) {
        List<ToolCall> calls = new ArrayList<>();
        require(t, "calls").forEach(c -> calls.add(call(c)));
        return calls.toArray(ToolCall[]::new);
    }

    @SuppressWarnings("unchecked")
    private static ToolCall call(JsonNode c) {
        Map<String, Object> input = c.has("input")
                ? MessageJson.MAPPER.convertValue(c.get("input"), LinkedHashMap.class) : Map.of();
        return new ToolCall(c.path("id").asText(null), require(c, "name").asText(), input);
    }

    /** Content blocks in the API's own shape: text, thinking, tool_use. */
    private static FakeBlock[] blocks(JsonNode t) {
        List<FakeBlock> blocks = new ArrayList<>();
        for (JsonNode b : require(t, "content")) {
            switch (require(b, "type").asText()) {
                case "text" -> blocks.add(FakeBlock.text(require(b, "text").asText()));
                case "thinking" -> blocks.add(new FakeBlock.Thinking(require(b, "thinking").asText(),
                        b.path("signature").asText(null)));
                case "tool_use" -> blocks.add(FakeBlock.toolUse(call(b)));
                default -> throw new IllegalArgumentException("unsupported block type: " + b.get("type"));
            }
        }
        return blocks.toArray(FakeBlock[]::new);
    }

    private static JsonNode require(JsonNode node, String field) {
        if (!node.hasNonNull(field)) {
            throw new IllegalArgumentException("missing field '" + field + "' in " + node);
        }
        return node.get(field);
    }

    /** Recorded requests as returned by {@code GET /_fake/requests}. */
    static ArrayNode requests(List<RecordedRequest> requests) {
        ArrayNode out = MessageJson.MAPPER.createArrayNode();
        for (RecordedRequest r : requests) {
            ObjectNode node = out.addObject();
            node.put("method", r.method());
            node.put("path", r.path());
            ObjectNode headers = node.putObject("headers");
            r.headers().forEach(headers::put);
            node.put("body", r.body());
            node.set("json", r.json());
            node.put("received_at", r.receivedAt().toString());
            node.put("received_nanos", r.receivedNanos());
        }
        return out;
    }
}
