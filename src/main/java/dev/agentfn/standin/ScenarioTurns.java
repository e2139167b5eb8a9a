package dev.agentfn.standin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds the turn answered when the script queue is empty. */
final class ScenarioTurns {
    static final String ECHO_PREFIX = "[local stand-in, not Claude] ";

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ScenarioTurns() {
    }

    static FakeTurn next(Scenario scenario, JsonNode request, int toolRounds) {
        JsonNode messages = request.path("messages");
        if (scenario == Scenario.TOOL_LOOP && toolResultRounds(messages) < toolRounds) {
            JsonNode tool = firstCustomTool(request.path("tools"));
            if (tool != null) {
                return FakeTurn.toolUse(null, ToolCall.of(tool.get("name").asText(), inputFor(tool)));
            }
        }
        return FakeTurn.text(ECHO_PREFIX + lastUserText(messages));
    }

    /** User messages carrying tool_result blocks; system entries (CLI notes) are not counted. */
    static int toolResultRounds(JsonNode messages) {
        int rounds = 0;
        for (JsonNode message : messages) {
            if ("user".equals(message.path("role").asText()) && hasToolResult(message.path("content"))) {
                rounds++;
            }
        }
        return rounds;
    }

    private static boolean hasToolResult(JsonNode content) {
        for (JsonNode block : content) {
            if ("tool_result".equals(block.path("type").asText())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The last text-like block of the last user message. The last one, because the CLI puts
     * its {@code <system-reminder>} notes before the actual prompt.
     */
    static String lastUserText(JsonNode messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            JsonNode message = messages.get(i);
            if ("user".equals(message.path("role").asText())) {
                return lastText(message.path("content"));
            }
        }
        return "";
    }

    private static String lastText(JsonNode content) {
        if (content.isTextual()) {
            return content.asText();
        }
        for (int i = content.size() - 1; i >= 0; i--) {
            JsonNode block = content.get(i);
            String type = block.path("type").asText();
            if ("text".equals(type)) {
                return block.path("text").asText();
            }
            if ("tool_result".equals(type)) {
                return lastText(block.path("content"));
            }
        }
        return "";
    }

    /** Server tools carry a {@code type} and no {@code input_schema}; only custom tools are called. */
    private static JsonNode firstCustomTool(JsonNode tools) {
        for (JsonNode tool : tools) {
            if (tool.hasNonNull("name") && tool.has("input_schema")) {
                return tool;
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> inputFor(JsonNode tool) {
        JsonNode example = exampleFor(tool.path("input_schema"));
        return example.isObject() ? MAPPER.convertValue(example, LinkedHashMap.class) : Map.of();
    }

    /** A minimal valid-looking value: only required properties, first enum value, or a default. */
    static JsonNode exampleFor(JsonNode schema) {
        if (schema.has("default")) {
            return schema.get("default");
        }
        if (schema.has("const")) {
            return schema.get("const");
        }
        if (schema.path("enum").size() > 0) {
            return schema.get("enum").get(0);
        }
        JsonNode type = schema.path("type");
        String name = type.isArray() ? type.path(0).asText() : type.asText("object");
        switch (name) {
            case "string": return NODES.textNode("example");
            case "integer": case "number": return NODES.numberNode(1);
            case "boolean": return NODES.booleanNode(true);
            case "array": return NODES.arrayNode();
            case "null": return NODES.nullNode();
            default: return exampleObject(schema);
        }
    }

    private static ObjectNode exampleObject(JsonNode schema) {
        ObjectNode out = NODES.objectNode();
        for (JsonNode required : schema.path("required")) {
            String key = required.asText();
            out.set(key, exampleFor(schema.path("properties").path(key)));
        }
        return out;
    }
}
