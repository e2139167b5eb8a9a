package dev.agentfn.standin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/** {@code /_fake/*}: scripting and inspection for out-of-process users (benchmarks, scripts). */
final class ControlEndpoint {
    private final FakeAnthropicServer server;

    ControlEndpoint(FakeAnthropicServer server) {
        this.server = server;
    }

    void handle(HttpExchange ex, String route, String body) throws IOException {
        try {
            dispatch(ex, route, body);
        } catch (IllegalArgumentException e) {
            // Bad scripts (including unparsable JSON, see parse()) are the caller's fault: 400.
            Exchanges.sendError(ex, 400, "invalid_request_error", e.getMessage());
        }
    }

    private void dispatch(HttpExchange ex, String route, String body) throws IOException {
        switch (route) {
            case "POST /_fake/turns" -> {
                List<FakeTurn> turns = TurnJson.parseTurns(parse(body));
                server.enqueue(turns);
                ObjectNode out = MessageJson.MAPPER.createObjectNode();
                out.put("queued", turns.size());
                out.put("pending_turns", server.pendingTurns());
                Exchanges.sendJson(ex, 200, out);
            }
            case "GET /_fake/requests" -> Exchanges.sendJson(ex, 200, TurnJson.requests(server.requests()));
            case "POST /_fake/reset" -> {
                server.reset();
                Exchanges.sendJson(ex, 200, config());
            }
            case "POST /_fake/config" -> {
                applyConfig(parse(body));
                Exchanges.sendJson(ex, 200, config());
            }
            case "GET /_fake/config" -> Exchanges.sendJson(ex, 200, config());
            default -> Exchanges.sendError(ex, 404, "not_found_error", "Not found: " + route);
        }
    }

    private void applyConfig(JsonNode config) {
        if (config.hasNonNull("latency_ms")) {
            server.defaultLatency(Duration.ofMillis(config.get("latency_ms").asLong()));
        }
        if (config.hasNonNull("model_latency_ms")) {
            config.get("model_latency_ms").fields().forEachRemaining(e -> server.modelLatency(e.getKey(),
                    e.getValue().isNull() ? null : Duration.ofMillis(e.getValue().asLong())));
        }
        if (config.hasNonNull("latency_jitter_ms") || config.hasNonNull("jitter_seed")) {
            server.latencyJitter(Duration.ofMillis(config.path("latency_jitter_ms").asLong(server.latencyJitter().toMillis())),
                    config.path("jitter_seed").asLong(0));
        }
        if (config.hasNonNull("scenario")) {
            server.scenario(Scenario.parse(config.get("scenario").asText()));
        }
        if (config.hasNonNull("tool_rounds")) {
            server.toolRounds(config.get("tool_rounds").asInt());
        }
    }

    private ObjectNode config() {
        ObjectNode out = MessageJson.MAPPER.createObjectNode();
        out.put("latency_ms", server.defaultLatency().toMillis());
        out.put("latency_jitter_ms", server.latencyJitter().toMillis());
        out.put("scenario", server.scenario().wireName());
        out.put("tool_rounds", server.toolRounds());
        out.put("pending_turns", server.pendingTurns());
        out.put("recorded_requests", server.recordedRequests());
        out.put("received_requests", server.receivedRequests());
        return out;
    }

    private static JsonNode parse(String body) {
        try {
            return MessageJson.MAPPER.readTree(body.isBlank() ? "{}" : body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("invalid JSON: " + e.getOriginalMessage(), e);
        }
    }
}
