package dev.agentfn.conversation.messages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.conversation.SpanShapes;
import dev.agentfn.conversation.Usage;
import dev.agentfn.conversation.messages.wire.ContentBlock;
import dev.agentfn.conversation.messages.wire.Message;
import dev.agentfn.conversation.messages.wire.MessagesRequest;
import dev.agentfn.mlflow.MlflowKeys.GenAi;
import dev.agentfn.mlflow.MlflowKeys.Span;
import dev.agentfn.mlflow.MlflowKeys.SpanType;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.LiveSpan;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Records Messages API calls and tool calls as MLflow spans, the way MLflow's Anthropic autolog shapes them. */
final class ChatSpans {
    static final String PROVIDER = "anthropic";
    private final ObjectMapper json;

    ChatSpans(ObjectMapper json) {
        this.json = json;
    }

    LiveSpan startCall(ActiveTrace trace, MessagesRequest request) {
        LiveSpan span = trace.startSpan("Messages.create", SpanType.CHAT_MODEL, trace.root());
        if (!span.isRecording()) {
            return span;
        }
        span.inputs(plain(tracedBody(request)));
        span.attribute(Span.MESSAGE_FORMAT, "anthropic").attribute(Span.LLM_PROVIDER, PROVIDER)
                .attribute(GenAi.OPERATION_NAME, "chat").attribute(GenAi.PROVIDER_NAME, PROVIDER)
                .attribute(GenAi.REQUEST_MODEL, request.model());
        if (!request.tools().isEmpty()) {
            span.attribute(Span.CHAT_TOOLS, SpanShapes.openAiTools(request.tools()));
        }
        return span;
    }

    void endCall(LiveSpan span, AnthropicClient.CallResult call, Pricing.Cost cost) {
        if (!span.isRecording()) {
            span.end();
            return;
        }
        Message m = call.message();
        Usage u = m.usage();
        span.outputs(plain(m.toJson()));
        SpanShapes.usage(span, u);
        span.attribute(Span.LLM_MODEL, m.model()).attribute(GenAi.RESPONSE_MODEL, m.model())
                .attribute(GenAi.RESPONSE_ID, m.id()).attribute(GenAi.RESPONSE_FINISH_REASONS, List.of(String.valueOf(m.stopReason())))
                .attribute(Span.LLM_COST, cost(cost))
                .attribute("anthropic.request_id", call.requestId())
                .attribute("anthropic.stop_reason", m.stopReason())
                .attribute("agentfn.attempts", call.attempts())
                .attribute("agentfn.time_to_first_token_ms", call.timeToFirstToken().toNanos() / 1e6);
        span.end();
    }

    void retry(LiveSpan span, int retry, int status, String errorType, java.time.Duration delay) {
        if (!span.isRecording()) {
            return;
        }
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("retry", retry);
        attrs.put("http.status_code", status);
        attrs.put("error.type", errorType);
        attrs.put("delay_ms", delay.toMillis());
        span.event("retry", attrs);
    }

    /** Server-tool and MCP uses happened inside Anthropic during the call: spans over the call's window. */
    void remoteTools(ActiveTrace trace, LiveSpan call, Message m, long endNanos) {
        if (!trace.isRecording()) {
            return;
        }
        Map<String, ContentBlock.RemoteToolResult> results = new LinkedHashMap<>();
        m.content().stream().filter(ContentBlock.RemoteToolResult.class::isInstance)
                .map(ContentBlock.RemoteToolResult.class::cast).forEach(r -> results.put(r.toolUseId(), r));
        for (ContentBlock b : m.content()) {
            if (b instanceof ContentBlock.RemoteToolUse use) {
                LiveSpan s = trace.startSpanAt("tool_" + use.name(), SpanType.TOOL, call, call.startNanos());
                toolAttributes(s, use.name(), use.id(), use.type());
                s.attribute("mcp.server_name", use.serverName());
                s.inputs(plain(use.input()));
                ContentBlock.RemoteToolResult r = results.get(use.id());
                if (r != null) {
                    s.outputs(Map.of("result", plain(r.json().path("content")))).attribute("tool.is_error", r.isError());
                    if (r.isError()) {
                        s.recordError(r.type(), "tool reported an error", null);
                    }
                }
                s.endAt(endNanos);
            }
        }
    }

    LiveSpan startTool(ActiveTrace trace, ContentBlock.ToolUse use) {
        LiveSpan s = trace.startSpan("tool_" + use.name(), SpanType.TOOL, trace.root());
        if (!s.isRecording()) {
            return s;
        }
        toolAttributes(s, use.name(), use.id(), "function");
        s.inputs(plain(use.input()));
        return s;
    }

    void endTool(LiveSpan s, String content, boolean isError) {
        SpanShapes.toolResult(s, json, content, isError);
        s.end();
    }

    static Map<String, Object> tokenUsage(Usage u) {
        return SpanShapes.tokenUsage(u);
    }

    static Map<String, Object> cost(Pricing.Cost c) {
        return SpanShapes.cost(c);
    }

    private static void toolAttributes(LiveSpan s, String name, String id, String type) {
        s.attribute("tool_name", name).attribute("tool_id", id).attribute(GenAi.OPERATION_NAME, "execute_tool")
                .attribute(GenAi.TOOL_NAME, name).attribute(GenAi.TOOL_CALL_ID, id).attribute(GenAi.TOOL_TYPE, type);
    }

    /** The body as sent, minus what must never be traced (MCP authorization tokens). */
    private ObjectNode tracedBody(MessagesRequest request) {
        ObjectNode body = request.toJson();
        if (body.has("mcp_servers")) {
            body.withArray("mcp_servers").forEach(s -> ((ObjectNode) s).remove("authorization_token"));
        }
        return body;
    }

    /** A JSON tree as maps, lists and scalars (see {@link SpanShapes#plain}). */
    static Object plain(JsonNode node) {
        return SpanShapes.plain(node);
    }
}
