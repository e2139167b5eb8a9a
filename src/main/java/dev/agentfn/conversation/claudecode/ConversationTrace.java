package dev.agentfn.conversation.claudecode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.mlflow.MlflowKeys.GenAi;
import dev.agentfn.mlflow.MlflowKeys.Span;
import dev.agentfn.mlflow.MlflowKeys.SpanType;
import static dev.agentfn.mlflow.MlflowKeys.Usage.*;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.LiveSpan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the trace of a CLI conversation while its frames arrive, with the times they arrive: one LLM
 * span per assistant {@code message.id} (its frames grouped, usage taken once), one TOOL span per
 * {@code tool_use} id closed by its {@code tool_result}, subagent frames nested under their Task tool
 * span. Frames come from one reader thread; failures may come from the deadline timer, hence the locks.
 */
final class ConversationTrace {
    static final String ROOT_CONTEXT = "";
    private final ActiveTrace trace;
    private final ConversationListener listener;
    private final ObjectMapper json;
    private final Map<String, Context> contexts = new HashMap<>();
    private final Map<String, LiveSpan> tools = new LinkedHashMap<>();
    private final Map<String, String> toolNames = new HashMap<>();
    private final List<Map<String, Object>> denials = new ArrayList<>();
    private String lastText = "";
    private int llmCalls;

    /** Where model calls of one agent (the main loop, or a subagent under a Task call) hang and start. */
    private static final class Context {
        final LiveSpan parent;
        long mark;
        Object lastInput;
        LlmCall open;

        Context(LiveSpan parent, long mark) {
            this.parent = parent;
            this.mark = mark;
        }
    }

    private static final class LlmCall {
        final String id;
        final LiveSpan span;
        final ObjectNode message;
        long lastFrameNanos;

        LlmCall(String id, LiveSpan span, ObjectNode message, long lastFrameNanos) {
            this.id = id;
            this.span = span;
            this.message = message;
            this.lastFrameNanos = lastFrameNanos;
        }
    }

    ConversationTrace(ActiveTrace trace, ConversationListener listener, ObjectMapper json) {
        this.trace = trace;
        this.listener = listener;
        this.json = json;
    }

    /** The prompt went to the CLI now: the first model call starts here. */
    synchronized void promptSent(Object prompt) {
        Context root = new Context(trace.root(), trace.nowNanos());
        root.lastInput = prompt;
        contexts.put(ROOT_CONTEXT, root);
    }

    /**
     * Records a frame that describes the conversation (init, assistant message, tool results, API
     * retry); returns false for the others (control traffic, the result), which the caller handles.
     */
    boolean record(CliFrame f) {
        if (f instanceof CliFrame.Init i) {
            init(i);
        } else if (f instanceof CliFrame.Assistant a) {
            assistant(a);
        } else if (f instanceof CliFrame.ToolResults r) {
            toolResults(r);
        } else if (f instanceof CliFrame.ApiRetry r) {
            apiRetry(r);
        } else {
            return false;
        }
        return true;
    }

    synchronized void init(CliFrame.Init f) {
        JsonNode j = f.json();
        trace.root().attribute("claude_code.session_id", f.sessionId())
                .attribute("claude_code.version", f.version())
                .attribute("claude_code.cwd", j.path("cwd").asText(null))
                .attribute("claude_code.permission_mode", j.path("permissionMode").asText(null))
                .attribute("claude_code.model", f.model())
                .attribute("claude_code.tools", plain(j.path("tools")));
    }

    synchronized void assistant(CliFrame.Assistant f) {
        long now = trace.nowNanos();
        Context ctx = context(f.parentToolUseId(), now);
        JsonNode m = f.message();
        if (ctx.open != null && !ctx.open.id.equals(f.messageId())) {
            endCall(ctx);
        }
        if (ctx.open == null) {
            ctx.open = startCall(ctx, f, now);
        }
        ctx.open.lastFrameNanos = now;
        for (JsonNode block : m.path("content")) {
            ((ArrayNode) ctx.open.message.withArray("content")).add(block);
            block(ctx, f, block);
        }
    }

    private LlmCall startCall(Context ctx, CliFrame.Assistant f, long now) {
        JsonNode m = f.message();
        LiveSpan span = trace.startSpanAt("llm", SpanType.LLM, ctx.parent, Math.min(ctx.mark, now));
        llmCalls++;
        if (ctx.lastInput != null) {
            span.inputs(ctx.lastInput);
        }
        String model = m.path("model").asText(null);
        span.attribute(Span.MESSAGE_FORMAT, "anthropic").attribute(Span.LLM_PROVIDER, "anthropic")
                .attribute(GenAi.OPERATION_NAME, "chat").attribute(GenAi.PROVIDER_NAME, "anthropic")
                .attribute(Span.LLM_MODEL, model).attribute(GenAi.RESPONSE_MODEL, model)
                .attribute(GenAi.RESPONSE_ID, f.messageId())
                .attribute("anthropic.request_id", f.json().path("request_id").asText(null));
        usage(span, m.path("usage"));
        if (f.isApiError()) {
            span.recordError(f.json().path("api_error_type").asText("api_error"),
                    "API error " + f.json().path("api_error_status").asText(""), null);
        }
        ObjectNode message = json.createObjectNode().put("id", f.messageId()).put("type", "message")
                .put("role", "assistant").put("model", model);
        message.putArray("content");
        return new LlmCall(f.messageId(), span, message, now);
    }

    /** Usage as the CLI reports it on the message's frames: the {@code message_start} snapshot, taken once. */
    private void usage(LiveSpan span, JsonNode u) {
        if (!u.isObject()) {
            return;
        }
        long in = u.path("input_tokens").asLong(0);
        long cacheRead = u.path("cache_read_input_tokens").asLong(0);
        long cacheWrite = u.path("cache_creation_input_tokens").asLong(0);
        long out = u.path("output_tokens").asLong(0);
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put(INPUT_TOKENS, in + cacheRead + cacheWrite);
        usage.put(OUTPUT_TOKENS, out);
        usage.put(TOTAL_TOKENS, in + cacheRead + cacheWrite + out);
        usage.put(CACHE_READ_INPUT_TOKENS, cacheRead);
        usage.put(CACHE_CREATION_INPUT_TOKENS, cacheWrite);
        span.attribute(Span.TOKEN_USAGE, usage).attribute(GenAi.USAGE_INPUT_TOKENS, in + cacheRead + cacheWrite)
                .attribute(GenAi.USAGE_OUTPUT_TOKENS, out);
    }

    private void block(Context ctx, CliFrame.Assistant f, JsonNode block) {
        String type = block.path("type").asText();
        if (type.equals("text")) {
            if (ctx == contexts.get(ROOT_CONTEXT)) {
                lastText = block.path("text").asText("");
                listener.textDelta(lastText);
            }
        } else if (type.equals("tool_use")) {
            String id = block.path("id").asText();
            String name = block.path("name").asText();
            LiveSpan s = trace.startSpan("tool_" + name, SpanType.TOOL, ctx.parent);
            s.attribute("tool_name", name).attribute("tool_id", id).attribute(GenAi.OPERATION_NAME, "execute_tool")
                    .attribute(GenAi.TOOL_NAME, name).attribute(GenAi.TOOL_CALL_ID, id)
                    .attribute(GenAi.TOOL_TYPE, "function");
            s.inputs(plain(block.path("input")));
            tools.put(id, s);
            toolNames.put(id, name);
            listener.toolCall(id, name, block.path("input"));
        }
    }

    private void endCall(Context ctx) {
        LlmCall call = ctx.open;
        ctx.open = null;
        call.span.outputs(plain(call.message));
        call.span.endAt(call.lastFrameNanos);
    }

    private Context context(String parentToolUseId, long now) {
        String key = parentToolUseId == null ? ROOT_CONTEXT : parentToolUseId;
        return contexts.computeIfAbsent(key, k -> {
            LiveSpan parent = tools.getOrDefault(k, trace.root());
            return new Context(parent, parent.startNanos());
        });
    }

    synchronized void toolResults(CliFrame.ToolResults f) {
        long now = trace.nowNanos();
        Context ctx = context(f.parentToolUseId(), now);
        if (ctx.open != null) {
            endCall(ctx);
        }
        List<Object> inputs = new ArrayList<>();
        for (JsonNode r : f.results()) {
            String id = r.path("tool_use_id").asText();
            boolean isError = r.path("is_error").asBoolean(false);
            String content = text(r.path("content"));
            inputs.add(plain(r));
            LiveSpan s = tools.remove(id);
            String name = toolNames.getOrDefault(id, "");
            if (s != null) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("result", content);
                out.put("is_error", isError);
                s.outputs(out).attribute("tool.is_error", isError);
                JsonNode decision = f.permissionDecision(id);
                if (decision != null) {
                    s.attribute("claude_code.permission_decision", plain(decision));
                }
                if (isError) {
                    s.recordError("ToolError", content.length() > 500 ? content.substring(0, 500) : content, null);
                }
                s.endAt(now);
            }
            listener.toolResult(id, name, content, isError);
        }
        ctx.mark = now;
        ctx.lastInput = Map.of("role", "user", "content", inputs);
    }

    /** The deployment's answer to a permission request, on the tool call's span. */
    synchronized void permission(String toolUseId, String tool, ToolPolicy.Decision d) {
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("tool_name", tool);
        attrs.put("decision", d.allow() ? "allow" : "deny");
        attrs.put("reason", d.reason());
        LiveSpan s = tools.get(toolUseId);
        (s != null ? s : trace.root()).event("permission", attrs);
        if (!d.allow()) {
            if (s != null) {
                s.attribute("claude_code.permission_denied", d.reason());
            }
            Map<String, Object> denial = new LinkedHashMap<>();
            denial.put("tool_name", tool);
            denial.put("tool_use_id", toolUseId);
            denial.put("reason", d.reason());
            denials.add(denial);
        }
    }

    synchronized void apiRetry(CliFrame.ApiRetry f) {
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("retry", f.json().path("attempt").asInt());
        attrs.put("http.status_code", f.json().path("error_status").asInt());
        attrs.put("error.type", f.json().path("error").asText(""));
        attrs.put("delay_ms", f.json().path("retry_delay_ms").asLong());
        trace.root().event("api_retry", attrs);
    }

    /** Closes what is open and records the totals of the {@code result} frame on the root. */
    synchronized void result(CliFrame.Result f) {
        closeOpen(null);
        JsonNode j = f.json();
        trace.root().attribute("claude_code.session_id", f.sessionId())
                .attribute("claude_code.num_turns", j.path("num_turns").asInt())
                .attribute("claude_code.duration_ms", j.path("duration_ms").asLong())
                .attribute("claude_code.duration_api_ms", j.path("duration_api_ms").asLong())
                .attribute("claude_code.total_cost_usd", j.path("total_cost_usd").asDouble())
                .attribute("claude_code.terminal_reason", j.path("terminal_reason").asText(null))
                .attribute("claude_code.result_subtype", f.subtype())
                .attribute("claude_code.usage", plain(j.path("usage")))
                .attribute("claude_code.model_usage", plain(j.path("modelUsage")));
        if (j.has("ttft_ms")) {
            trace.root().attribute("agentfn.time_to_first_token_ms", j.path("ttft_ms").asLong());
        }
        List<Object> reported = new ArrayList<>();
        j.path("permission_denials").forEach(d -> reported.add(plain(d)));
        if (!denials.isEmpty() || !reported.isEmpty()) {
            trace.root().attribute("claude_code.permission_denials", reported.isEmpty() ? denials : reported);
        }
    }

    /** Ends every open span; with a cause, as errors (deadline, killed process, malformed output). */
    synchronized void closeOpen(String errorType) {
        contexts.values().forEach(ctx -> {
            if (ctx.open != null) {
                if (errorType != null) {
                    ctx.open.span.recordError(errorType, "the CLI stopped before the call finished", null);
                }
                endCall(ctx);
            }
        });
        List<LiveSpan> open = new ArrayList<>(tools.values());
        tools.clear();
        for (int i = open.size() - 1; i >= 0; i--) {
            LiveSpan s = open.get(i);
            s.recordError(errorType == null ? "NoToolResult" : errorType, "no tool_result arrived for this call", null);
            s.end();
        }
    }

    synchronized List<Map<String, Object>> denials() {
        return List.copyOf(denials);
    }

    synchronized String lastText() {
        return lastText;
    }

    synchronized int llmCalls() {
        return llmCalls;
    }

    private static String text(JsonNode content) {
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder sb = new StringBuilder();
        content.forEach(b -> sb.append(b.path("text").asText("")));
        return sb.toString();
    }

    private Object plain(JsonNode node) {
        return node == null || node.isMissingNode() ? null : json.convertValue(node, Object.class);
    }
}
