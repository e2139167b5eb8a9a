package dev.agentfn.gateway;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One {@code POST /v1/messages} as the gateway traces it: the body as sent and the headers that place it.
 *
 * @param sessionId {@code X-Claude-Code-Session-Id}, null for other clients
 * @param agentId {@code X-Claude-Code-Agent-Id}: set on a subagent's requests only
 * @param userAgent for Claude Code's version and entrypoint ({@code claude-cli/<version> (external, <entrypoint>)})
 * @param user the user as the deployment names it (configured header, else {@code metadata.user_id}), or null
 * @param arrivalNanos when the request arrived (span clock)
 */
record Exchange(JsonNode body, String sessionId, String agentId, String userAgent, String traceparent, String user,
        long arrivalNanos) {

    boolean claudeCode() {
        return sessionId != null && !sessionId.isBlank();
    }

    boolean subagent() {
        return agentId != null && !agentId.isBlank();
    }

    /** A side request of Claude Code (title or topic generation, quota probes): no tools offered. */
    boolean sideRequest() {
        return claudeCode() && body.path("tools").size() == 0;
    }

    String model() {
        return body.path("model").asText(null);
    }

    /** The session id as traces hold it ({@link TracedText}); ids and caches use the id as it came. */
    String tracedSessionId() {
        return TracedText.of(sessionId);
    }

    String agentKey() {
        return subagent() ? agentId : TurnState.MAIN;
    }
}
