package dev.agentfn.conversation.claudecode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.conversation.SpanShapes;
import dev.agentfn.conversation.Usage;
import dev.agentfn.mlflow.MlflowKeys.GenAi;
import dev.agentfn.mlflow.MlflowKeys.LogLevel;
import dev.agentfn.mlflow.MlflowKeys.Span;
import dev.agentfn.mlflow.MlflowKeys.SpanType;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.AttributePolicy.Cleaned;
import dev.agentfn.tracing.LiveSpan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the trace of a CLI conversation while its frames arrive, with the times they arrive: a
 * {@code claude_code_startup} span up to the prompt, one LLM span per assistant {@code message.id} (its frames
 * grouped; usage from its {@code message_delta} stream event, taken once), one TOOL span per {@code tool_use}
 * id closed by its {@code tool_result}, subagent frames nested under their Task tool span. Each LLM span's
 * inputs are the conversation of its agent up to that call, in the chat form MLflow renders. Frames come from
 * one reader thread; failures may come from the deadline timer, hence the locks.
 */
final class ConversationTrace {
    static final String ROOT_CONTEXT = "";
    private final ActiveTrace trace;
    private final ConversationListener listener;
    private final ObjectMapper json;
    private final Pricing pricing;
    private final Setup setup;
    private final Map<String, Context> contexts = new HashMap<>();
    private final Map<String, LiveSpan> tools = new LinkedHashMap<>();
    private final Map<String, String> toolNames = new HashMap<>();
    /** The {@code prompt} of Task calls: the first message of the subagent working for it. */
    private final Map<String, String> taskPrompts = new HashMap<>();
    private final List<Map<String, Object>> denials = new ArrayList<>();
    private String lastText = "";
    private int llmCalls;
    private boolean promptSent;
    private Usage spansUsage = Usage.ZERO;
    /** The main agent's tools (from {@code system/init}) as model-call inputs and as {@code mlflow.chat.tools}. */
    private Cleaned toolsInput;
    private Cleaned chatTools;

    /**
     * What the invocation gave the CLI beyond the frames.
     *
     * @param systemPrompt the {@code --system-prompt} text, empty for none
     * @param standby whether a spare process, started ahead, took the invocation
     */
    record Setup(String systemPrompt, boolean standby) {
        static final Setup NONE = new Setup("", false);
    }

    /** Where model calls of one agent (the main loop, or a subagent under a Task call) hang and start. */
    private static final class Context {
        final LiveSpan parent;
        /** The agent's messages so far, each cleaned once and shared by the inputs of all later calls. */
        final List<Object> history = new ArrayList<>();
        final boolean main;
        long mark;
        LlmCall open;

        Context(LiveSpan parent, long mark, boolean main) {
            this.parent = parent;
            this.mark = mark;
            this.main = main;
        }
    }

    private static final class LlmCall {
        final String id;
        final LiveSpan span;
        final ObjectNode message;
        final String model;
        final boolean apiError;
        /** The {@code message_start} snapshot the assistant frames repeat ({@code output_tokens: 1}). */
        final Usage snapshot;
        /** From the call's {@code message_delta}: cumulative, final; null until it arrives. */
        JsonNode finalUsage;
        String stopReason;
        long lastFrameNanos;

        LlmCall(String id, LiveSpan span, ObjectNode message, String model, boolean apiError, Usage snapshot,
                long lastFrameNanos) {
            this.id = id;
            this.span = span;
            this.message = message;
            this.model = model;
            this.apiError = apiError;
            this.snapshot = snapshot;
            this.lastFrameNanos = lastFrameNanos;
        }
    }

    /** Without prices or setup (tests of the frame handling). */
    ConversationTrace(ActiveTrace trace, ConversationListener listener, ObjectMapper json) {
        this(trace, listener, json, null, Setup.NONE);
    }

    /** @param pricing prices each model call ({@code mlflow.llm.cost}); null records no span cost */
    ConversationTrace(ActiveTrace trace, ConversationListener listener, ObjectMapper json, Pricing pricing,
            Setup setup) {
        this.trace = trace;
        this.listener = listener;
        this.json = json;
        this.pricing = pricing;
        this.setup = setup;
    }

    /**
     * The prompt went to the CLI now: the first model call starts here, and what came before (a process
     * started and initialized, or a spare handed over) becomes the {@code claude_code_startup} span.
     */
    synchronized void promptSent(Object prompt) {
        long now = trace.nowNanos();
        startup(now, null);
        Context root = new Context(trace.root(), now, true);
        remember(root, prompt instanceof Map<?, ?> ? prompt : Map.of("role", "user", "content", String.valueOf(prompt)));
        contexts.put(ROOT_CONTEXT, root);
    }

    /** From the invocation's start to the prompt; with an error type when the CLI never got that far. */
    private void startup(long end, String errorType) {
        if (promptSent) {
            return;
        }
        promptSent = true;
        LiveSpan s = trace.startSpanAt("claude_code_startup", SpanType.CHAIN, trace.root(), trace.root().startNanos());
        // MLflow files CHAIN spans under DEBUG; this one is a visible part of the latency, so INFO like the others.
        s.raiseLogLevel(LogLevel.INFO).attribute("claude_code.standby", setup.standby());
        if (errorType != null) {
            s.recordError(errorType, "the CLI stopped before it took the prompt", null);
        }
        s.endAt(end);
    }

    /** Adds a message to the agent's conversation, cleaned once (nothing is kept when no content is recorded). */
    private void remember(Context ctx, Object message) {
        Cleaned c = trace.cleaned(message);
        if (c != null) {
            ctx.history.add(c.value());
        }
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
        } else if (f instanceof CliFrame.StreamEvent e) {
            streamEvent(e);
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
        if (toolsInput == null && j.path("tools").isArray()) {
            // The CLI names its tools but never shows their definitions: name-only entries, which MLflow accepts.
            ArrayNode named = json.createArrayNode();
            j.path("tools").forEach(t -> named.addObject().put("name", t.asText()));
            toolsInput = trace.cleaned(plain(named));
            List<JsonNode> definitions = new ArrayList<>();
            named.forEach(definitions::add);
            chatTools = trace.cleaned(SpanShapes.openAiTools(definitions));
        }
    }

    /**
     * A call's {@code message_delta}: its final usage and stop reason. The span still ends at the message's last
     * assistant frame, just before: the CLI may start a tool from that frame on.
     */
    synchronized void streamEvent(CliFrame.StreamEvent e) {
        if (!e.eventType().equals("message_delta")) {
            return;
        }
        Context ctx = contexts.get(e.parentToolUseId() == null ? ROOT_CONTEXT : e.parentToolUseId());
        if (ctx != null && ctx.open != null && ctx.open.id.equals(e.apiMessageId())) {
            ctx.open.finalUsage = e.usage();
            ctx.open.stopReason = e.stopReason();
        }
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
        String model = m.path("model").asText(null);
        span.inputs(chatInputs(ctx, model));
        if (ctx.main && chatTools != null) {
            span.attribute(Span.CHAT_TOOLS, chatTools);
        }
        span.attribute(Span.MESSAGE_FORMAT, "anthropic").attribute(Span.LLM_PROVIDER, "anthropic")
                .attribute(GenAi.OPERATION_NAME, "chat").attribute(GenAi.PROVIDER_NAME, "anthropic")
                .attribute(Span.LLM_MODEL, model).attribute(GenAi.REQUEST_MODEL, model)
                .attribute(GenAi.RESPONSE_MODEL, model).attribute(GenAi.RESPONSE_ID, f.messageId())
                .attribute("anthropic.request_id", f.json().path("request_id").asText(null));
        if (f.isApiError()) {
            span.recordError(f.json().path("api_error_type").asText("api_error"),
                    "API error " + f.json().path("api_error_status").asText(""), null);
        }
        ObjectNode message = json.createObjectNode().put("id", f.messageId()).put("type", "message")
                .put("role", "assistant").put("model", model);
        message.putArray("content");
        return new LlmCall(f.messageId(), span, message, model, f.isApiError(), Usage.fromJson(m.path("usage")), now);
    }

    /**
     * The request as MLflow's chat view reads it ({@code {model, system?, messages, tools?}}): the agent's
     * conversation up to this call, shared with the other calls' inputs, not copied. Tools are the main agent's
     * (a subagent's own tool set is not reported by the CLI, so its calls show none).
     */
    private Map<String, Object> chatInputs(Context ctx, String model) {
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("model", model);
        if (ctx.main && !setup.systemPrompt().isEmpty()) {
            in.put("system", setup.systemPrompt());
        }
        in.put("messages", new Cleaned(List.copyOf(ctx.history)));
        if (ctx.main && toolsInput != null) {
            in.put("tools", toolsInput);
        }
        return in;
    }

    /**
     * The call's usage, set once when it ends: its {@code message_delta} (cumulative, final) over the
     * {@code message_start} snapshot, which is all there is when the stream ended early. Priced like the
     * {@code messages} engine's calls, so span costs add up to the trace's (MLflow's cost views sum them).
     */
    private void usage(LlmCall call) {
        if (call.apiError) {
            return; // the CLI's synthetic error message, not a model call that was billed
        }
        Usage u = call.snapshot.overlay(call.finalUsage);
        spansUsage = spansUsage.plus(u);
        SpanShapes.usage(call.span, u);
        if (pricing != null) {
            call.span.attribute(Span.LLM_COST, SpanShapes.cost(pricing.cost(call.model, u)));
        }
        if (call.stopReason != null) {
            call.span.attribute("anthropic.stop_reason", call.stopReason)
                    .attribute(GenAi.RESPONSE_FINISH_REASONS, List.of(call.stopReason));
        }
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
            if (block.path("input").path("prompt").isTextual()) {
                taskPrompts.put(id, block.path("input").path("prompt").asText());
            }
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
        usage(call);
        // The content is cleaned once for both the span's outputs and the next calls' inputs.
        Cleaned content = trace.cleaned(plain(call.message.path("content")));
        if (content != null) {
            Map<String, Object> out = new LinkedHashMap<>();
            call.message.fields().forEachRemaining(e -> out.put(e.getKey(), e.getKey().equals("content") ? content
                    : plain(e.getValue())));
            if (call.stopReason != null) {
                out.put("stop_reason", call.stopReason);
            }
            call.span.outputs(out);
            ctx.history.add(Map.of("role", "assistant", "content", content.value()));
        }
        call.span.endAt(call.lastFrameNanos);
    }

    private Context context(String parentToolUseId, long now) {
        String key = parentToolUseId == null ? ROOT_CONTEXT : parentToolUseId;
        return contexts.computeIfAbsent(key, k -> {
            LiveSpan parent = tools.getOrDefault(k, trace.root());
            Context ctx = new Context(parent, parent.startNanos(), k.equals(ROOT_CONTEXT));
            String prompt = taskPrompts.get(k);
            if (prompt != null) {
                remember(ctx, Map.of("role", "user", "content", prompt));
            }
            return ctx;
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
                SpanShapes.toolResult(s, json, content, isError);
                JsonNode decision = f.permissionDecision(id);
                if (decision != null) {
                    s.attribute("claude_code.permission_decision", plain(decision));
                }
                s.endAt(now);
            }
            listener.toolResult(id, name, content, isError);
        }
        ctx.mark = now;
        if (!inputs.isEmpty()) {
            remember(ctx, Map.of("role", "user", "content", inputs));
        }
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
        outsideSpans(f.modelUsage());
        List<Object> reported = new ArrayList<>();
        j.path("permission_denials").forEach(d -> reported.add(plain(d)));
        if (!denials.isEmpty() || !reported.isEmpty()) {
            trace.root().attribute("claude_code.permission_denials", reported.isEmpty() ? denials : reported);
        }
    }

    /**
     * What the CLI counted beyond the LLM spans (calls it made outside the conversation, such as title
     * generation, which agentfn turns off), on the root: the trace total comes from the CLI's count, so without
     * this the difference to the spans' sum would be unexplained.
     */
    private void outsideSpans(JsonNode modelUsage) {
        Usage total = Usage.ZERO;
        for (JsonNode m : modelUsage) {
            total = total.plus(new Usage(m.path("inputTokens").asLong(), m.path("outputTokens").asLong(),
                    m.path("cacheReadInputTokens").asLong(), m.path("cacheCreationInputTokens").asLong()));
        }
        Usage s = spansUsage;
        Usage rest = new Usage(total.inputTokens() - s.inputTokens(), total.outputTokens() - s.outputTokens(),
                total.cacheReadInputTokens() - s.cacheReadInputTokens(),
                total.cacheCreationInputTokens() - s.cacheCreationInputTokens());
        if (modelUsage.size() > 0 && !rest.equals(Usage.ZERO)) {
            trace.root().attribute("claude_code.usage_outside_llm_spans", SpanShapes.tokenUsage(rest));
        }
    }

    /** Ends every open span; with a cause, as errors (deadline, killed process, malformed output). */
    synchronized void closeOpen(String errorType) {
        if (errorType != null) {
            startup(trace.nowNanos(), errorType);
        }
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

    private static Object plain(JsonNode node) {
        return SpanShapes.plain(node);
    }
}
