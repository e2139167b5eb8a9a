package dev.agentfn.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.conversation.Usage;

/**
 * How one relayed request ended, as the trace records it.
 *
 * @param status upstream's HTTP status (0 when upstream was not reached or the client left first)
 * @param message the full answer message (streamed answers accumulated), or null
 * @param usage the answer's final usage (streamed: {@code message_start}'s overlaid with the last {@code message_delta}'s)
 * @param errorType Anthropic's error type, or the gateway's ({@code client_disconnected}, {@code upstream_unreachable}), or null
 */
record Answer(int status, JsonNode message, Usage usage, String stopReason, String requestId, String errorType,
        String errorMessage, long endNanos) {

    boolean ok() {
        return errorType == null && status >= 200 && status < 300;
    }

    boolean asksForTools() {
        return "tool_use".equals(stopReason);
    }

    String model() {
        return message == null ? null : message.path("model").asText(null);
    }

    String text() {
        if (message == null) {
            return "";
        }
        StringBuilder s = new StringBuilder();
        message.path("content").forEach(b -> {
            if ("text".equals(b.path("type").asText())) {
                s.append(b.path("text").asText());
            }
        });
        return s.toString();
    }
}
