package dev.agentfn.standin;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;

/** Rejects requests the way the real API does, in its order: auth, version, size, body. */
final class RequestValidator {
    /** The real API's 32 MB request limit, counted in chars since the body is kept as text. */
    static final int MAX_BODY_CHARS = 32 * 1024 * 1024;
    private static final Set<String> ROLES = Set.of("user", "assistant", "system");

    private RequestValidator() {
    }

    /** Returns the error to send, or {@code null} if the request is acceptable. */
    static FakeTurn.HttpError check(RecordedRequest req, boolean needsMaxTokens) {
        if (!hasCredentials(req)) {
            return invalid(401, "authentication_error", "x-api-key header is required");
        }
        if (isBlank(req.header("anthropic-version"))) {
            return invalid(400, "invalid_request_error", "anthropic-version: header is required");
        }
        if (req.body().length() > MAX_BODY_CHARS) {
            return invalid(413, "request_too_large", "Request exceeds the maximum allowed number of bytes");
        }
        JsonNode json = req.json();
        if (json == null || !json.isObject()) {
            return badRequest("There was an error parsing the body of your request: expected a JSON object");
        }
        return checkBody(json, needsMaxTokens);
    }

    private static FakeTurn.HttpError checkBody(JsonNode json, boolean needsMaxTokens) {
        if (!json.path("model").isTextual() || json.get("model").asText().isBlank()) {
            return badRequest("model: Field required");
        }
        if (needsMaxTokens && !(json.path("max_tokens").canConvertToInt() && json.get("max_tokens").isIntegralNumber())) {
            return badRequest("max_tokens: Field required");
        }
        if (needsMaxTokens && json.get("max_tokens").asInt() < 1) {
            return badRequest("max_tokens: Input should be greater than or equal to 1");
        }
        JsonNode messages = json.path("messages");
        if (!messages.isArray()) {
            return badRequest("messages: Field required");
        }
        if (messages.isEmpty()) {
            return badRequest("messages: at least one message is required");
        }
        return checkMessages(messages);
    }

    /** {@code system} entries are accepted because the Claude Code CLI sends them (spec §3.7). */
    private static FakeTurn.HttpError checkMessages(JsonNode messages) {
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            if (!ROLES.contains(message.path("role").asText())) {
                return badRequest("messages." + i + ".role: Input should be 'user' or 'assistant'");
            }
            JsonNode content = message.path("content");
            if (!content.isTextual() && !content.isArray()) {
                return badRequest("messages." + i + ".content: Field required");
            }
        }
        return null;
    }

    private static boolean hasCredentials(RecordedRequest req) {
        String auth = req.header("authorization");
        boolean bearer = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)
                && !auth.substring(7).isBlank();
        return bearer || !isBlank(req.header("x-api-key"));
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    private static FakeTurn.HttpError badRequest(String message) {
        return invalid(400, "invalid_request_error", message);
    }

    private static FakeTurn.HttpError invalid(int status, String type, String message) {
        return FakeTurn.error(status, type, message, java.util.Map.of());
    }
}
