package dev.agentfn.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.json.JsonValues;
import java.util.ArrayList;
import java.util.List;

/**
 * Request/response previews computed like MLflow's {@code _get_truncated_preview}
 * ({@code mlflow/tracing/utils/truncation.py}): the text of the last user (or assistant) message
 * for chat-shaped payloads, else the JSON of the value, cut to 1000 characters with "...".
 * The Python client sends these with StartTraceV3; doing the same keeps both paths alike.
 */
final class Previews {
    static final int MAX_LENGTH = 1000;

    private Previews() {
    }

    static String request(Object rootInputs) {
        return preview(rootInputs, "user");
    }

    static String response(Object rootOutputs) {
        return preview(rootOutputs, "assistant");
    }

    static String preview(Object value, String role) {
        if (value == null) {
            return null;
        }
        JsonNode node = JsonValues.toNode(value);
        String content = null;
        List<JsonNode> messages = node.isObject() ? messages(node) : List.of();
        if (!messages.isEmpty()) {
            content = text(last(messages, role));
        }
        if (content == null || content.isEmpty()) {
            content = JsonValues.write(node);
        }
        return truncate(content);
    }

    static String truncate(String s) {
        if (s == null || s.length() <= MAX_LENGTH) {
            return s;
        }
        int end = MAX_LENGTH - 3;
        // Never cut a surrogate pair in half: the server would store an invalid string.
        if (Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end) + "...";
    }

    /** OpenAI chat {@code messages}/{@code choices}, Responses {@code input}/{@code output}, or a wrapped {@code request}. */
    private static List<JsonNode> messages(JsonNode obj) {
        if (obj.path("messages").isArray() && !obj.path("messages").isEmpty()) {
            return onlyMessages(obj.get("messages"));
        }
        JsonNode choice = obj.path("choices").path(0).path("message");
        if (isMessage(choice)) {
            return List.of(choice);
        }
        for (String key : List.of("input", "output")) {
            if (obj.path(key).isArray() && !obj.path(key).isEmpty()) {
                return onlyMessages(obj.get(key));
            }
        }
        return obj.path("request").isObject() ? messages(obj.get("request")) : List.of();
    }

    private static List<JsonNode> onlyMessages(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(m -> {
            if (isMessage(m)) {
                out.add(m);
            }
        });
        return out;
    }

    private static boolean isMessage(JsonNode n) {
        return n.isObject() && n.has("role") && n.has("content");
    }

    private static JsonNode last(List<JsonNode> messages, String role) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (role.equals(messages.get(i).path("role").asText())) {
                return messages.get(i);
            }
        }
        return messages.get(messages.size() - 1);
    }

    private static String text(JsonNode message) {
        JsonNode content = message.path("content");
        if (content.isTextual()) {
            return content.textValue();
        }
        for (JsonNode part : content) {
            if (part.isTextual()) {
                return part.textValue();
            }
            String type = part.path("type").asText();
            if (type.equals("text") || type.equals("output_text")) {
                return part.path("text").asText(null);
            }
        }
        return "";
    }
}
