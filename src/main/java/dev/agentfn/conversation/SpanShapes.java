package dev.agentfn.conversation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.mlflow.MlflowKeys.Span;
import static dev.agentfn.mlflow.MlflowKeys.Usage.*;

import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.tracing.LiveSpan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Span values both engines record the same way, so MLflow shows their model and tool calls alike: tools in
 * the OpenAI form MLflow's chat view reads, and tool results.
 */
public final class SpanShapes {
    /** The status message of a failed tool call keeps this much of its result (the outputs keep it all). */
    private static final int ERROR_MESSAGE_CHARS = 500;

    private SpanShapes() {
    }

    /**
     * Anthropic tool definitions ({@code name}, {@code description}, {@code input_schema}, or a server tool's
     * {@code type}) as {@code [{type:"function", function:{name, description?, parameters?}}]}: MLflow's chat
     * view reads tools only in this form ({@link Span#CHAT_TOOLS}).
     */
    public static List<Object> openAiTools(List<JsonNode> tools) {
        List<Object> out = new ArrayList<>(tools.size());
        for (JsonNode t : tools) {
            Map<String, Object> fn = new LinkedHashMap<>();
            fn.put("name", t.path("name").asText(t.path("mcp_server_name").asText(t.path("type").asText())));
            if (t.has("description")) {
                fn.put("description", t.get("description").asText());
            }
            if (t.has("input_schema")) {
                fn.put("parameters", plain(t.get("input_schema")));
            }
            out.add(Map.of("type", "function", "function", fn));
        }
        return out;
    }

    /**
     * Records a tool's result on its span: outputs {@code {"result": …}} as MLflow's own Claude Code
     * integrations record them, with a result that is a JSON object or array kept as JSON (MLflow then shows
     * its fields) and any other text as text; {@code tool.is_error} as an attribute, and a failed call as an
     * ERROR span with an {@code exception} event (as MLflow's TypeScript integration records it). The caller
     * ends the span.
     */
    public static void toolResult(LiveSpan span, ObjectMapper json, String content, boolean isError) {
        if (!span.isRecording()) {
            return;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("result", jsonOrText(json, content));
        span.outputs(out).attribute("tool.is_error", isError);
        if (isError) {
            span.recordError("ToolError", content.length() > ERROR_MESSAGE_CHARS
                    ? content.substring(0, ERROR_MESSAGE_CHARS) : content, null);
        }
    }

    /** Token usage as MLflow counts it: {@code input_tokens} includes cache reads and writes, which are also given as subsets. */
    public static Map<String, Object> tokenUsage(Usage u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(INPUT_TOKENS, u.allInputTokens());
        m.put(OUTPUT_TOKENS, u.outputTokens());
        m.put(TOTAL_TOKENS, u.allInputTokens() + u.outputTokens());
        m.put(CACHE_READ_INPUT_TOKENS, u.cacheReadInputTokens());
        m.put(CACHE_CREATION_INPUT_TOKENS, u.cacheCreationInputTokens());
        return m;
    }

    /** A model call's usage on its span, as MLflow reads it ({@code mlflow.chat.tokenUsage}) and as OTel GenAI names it. */
    public static LiveSpan usage(LiveSpan span, Usage u) {
        return span.attribute(MlflowKeys.Span.TOKEN_USAGE, tokenUsage(u))
                .attribute(MlflowKeys.GenAi.USAGE_INPUT_TOKENS, u.allInputTokens())
                .attribute(MlflowKeys.GenAi.USAGE_OUTPUT_TOKENS, u.outputTokens())
                .attribute(MlflowKeys.GenAi.USAGE_CACHE_READ_INPUT_TOKENS, u.cacheReadInputTokens())
                .attribute(MlflowKeys.GenAi.USAGE_CACHE_CREATION_INPUT_TOKENS, u.cacheCreationInputTokens());
    }

    /** {@code mlflow.llm.cost}: the value MLflow's cost views sum per span. */
    public static Map<String, Object> cost(Pricing.Cost c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(INPUT_COST, c.inputUsd());
        m.put(OUTPUT_COST, c.outputUsd());
        m.put(TOTAL_COST, c.totalUsd());
        return m;
    }

    /** A JSON object or array as maps and lists; anything else (plain text, a bare number) as the text itself. */
    static Object jsonOrText(ObjectMapper json, String content) {
        String s = content.strip();
        boolean looksJson = s.startsWith("{") && s.endsWith("}") || s.startsWith("[") && s.endsWith("]");
        if (!looksJson) {
            return content;
        }
        try {
            JsonNode node = json.readTree(s);
            return node != null && (node.isObject() || node.isArray()) ? plain(node) : content;
        } catch (JsonProcessingException e) {
            return content;
        }
    }

    /**
     * A JSON tree as maps, lists and scalars (what span attributes hold), by walking it: the same
     * result as {@code convertValue(node, Object.class)} without serializing and re-parsing the tree.
     */
    public static Object plain(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (node.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>(node.size() * 2);
            node.fields().forEachRemaining(e -> map.put(e.getKey(), plain(e.getValue())));
            return map;
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>(node.size());
            node.forEach(v -> list.add(plain(v)));
            return list;
        }
        if (node.isNumber()) {
            return node.numberValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        return node.asText();
    }
}
