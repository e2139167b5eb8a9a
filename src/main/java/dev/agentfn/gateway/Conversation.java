package dev.agentfn.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a Messages request stands in its conversation, read from its {@code messages} alone: Claude Code sends the
 * whole conversation with every request, so each request tells which turn it belongs to (the latest human prompt)
 * and which model call of that turn it is, without memory of earlier requests. That is what lets any instance
 * serve any request of a turn.
 *
 * @param promptIndex index in {@code messages} of the turn's human prompt (a user message with no tool result), -1 if none
 * @param promptText its text, {@code <system-reminder>} blocks the client injects left out when other text exists
 * @param promptDigest a digest of all its text, which with the session and index names the turn
 * @param call how many assistant messages follow the prompt: this request is the turn's call number {@code call}
 * @param toolReturns tool results this request carries back (its last user message), with the calls they answer
 */
record Conversation(int promptIndex, String promptText, String promptDigest, int call, List<ToolReturn> toolReturns) {
    private static final String REMINDER = "<system-reminder>";

    /** A tool call of an earlier answer and the result this request returns for it. */
    record ToolReturn(String id, String name, JsonNode input, String result, boolean isError) {
    }

    static Conversation of(JsonNode body) {
        JsonNode messages = body.path("messages");
        int prompt = -1;
        for (int i = messages.size() - 1; i >= 0; i--) {
            JsonNode m = messages.get(i);
            if ("user".equals(m.path("role").asText()) && isHumanPrompt(m.path("content"))) {
                prompt = i;
                break;
            }
        }
        if (prompt < 0) {
            return new Conversation(-1, "", "", 0, List.of());
        }
        int calls = 0;
        Map<String, JsonNode> toolUses = new LinkedHashMap<>();
        for (int i = prompt + 1; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            if ("assistant".equals(m.path("role").asText())) {
                calls++;
                m.path("content").forEach(b -> {
                    if ("tool_use".equals(b.path("type").asText())) {
                        toolUses.put(b.path("id").asText(), b);
                    }
                });
            }
        }
        JsonNode content = messages.get(prompt).path("content");
        return new Conversation(prompt, shownText(content), dev.agentfn.tracing.Ids.derived(16, allText(content)), calls,
                toolReturns(messages, prompt, toolUses));
    }

    private static List<ToolReturn> toolReturns(JsonNode messages, int prompt, Map<String, JsonNode> toolUses) {
        JsonNode last = messages.get(messages.size() - 1);
        List<ToolReturn> out = new ArrayList<>();
        if (messages.size() - 1 <= prompt || !"user".equals(last.path("role").asText())) {
            return out;
        }
        last.path("content").forEach(b -> {
            if ("tool_result".equals(b.path("type").asText())) {
                String id = b.path("tool_use_id").asText();
                JsonNode use = toolUses.get(id);
                out.add(new ToolReturn(id, use == null ? "unknown" : use.path("name").asText(),
                        use == null ? null : use.path("input"), resultText(b.path("content")),
                        b.path("is_error").asBoolean(false)));
            }
        });
        return out;
    }

    static boolean isHumanPrompt(JsonNode content) {
        if (content.isTextual()) {
            return true;
        }
        boolean text = false;
        for (JsonNode b : content) {
            String type = b.path("type").asText();
            if ("tool_result".equals(type)) {
                return false;
            }
            text |= "text".equals(type);
        }
        return text;
    }

    /** The text a person typed: injected reminders left out (kept if nothing else is there). */
    static String shownText(JsonNode content) {
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder shown = new StringBuilder();
        for (JsonNode b : content) {
            String t = b.path("text").asText("");
            if ("text".equals(b.path("type").asText()) && !t.stripLeading().startsWith(REMINDER)) {
                shown.append(shown.isEmpty() ? "" : "\n").append(t);
            }
        }
        return shown.isEmpty() ? allText(content) : shown.toString();
    }

    private static String allText(JsonNode content) {
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder all = new StringBuilder();
        content.forEach(b -> all.append(b.path("text").asText("")).append('\n'));
        return all.toString();
    }

    /** A tool result's content as text: a string, or its text blocks joined. */
    static String resultText(JsonNode content) {
        if (content.isTextual() || content.isMissingNode() || content.isNull()) {
            return content.asText("");
        }
        StringBuilder s = new StringBuilder();
        content.forEach(b -> s.append(b.path("text").asText("")));
        return s.toString();
    }
}
