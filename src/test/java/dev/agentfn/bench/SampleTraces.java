package dev.agentfn.bench;

import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.LiveSpan;
import dev.agentfn.tracing.Tracer;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A trace shaped like one plain-answer invocation: AGENT root and one CHAT_MODEL span. */
final class SampleTraces {
    private SampleTraces() {
    }

    static Trace invocation(Tracer tracer) {
        ActiveTrace trace = tracer.start("agent_invocation", MlflowKeys.SpanType.AGENT, Optional.empty());
        trace.root().inputs(Map.of("prompt", "What is the capital of France?", "options", Map.of("model", "claude-sonnet-5-5")))
                .attribute(MlflowKeys.Span.SESSION_ID, "bench-session");
        chatSpan(trace);
        trace.root().outputs(Map.of("response", "Paris is the capital of France.", "status", "completed"));
        trace.metadata(MlflowKeys.Metadata.SESSION, "bench-session")
                .jsonMetadata(MlflowKeys.Metadata.TOKEN_USAGE, Map.of("input_tokens", 20, "output_tokens", 8, "total_tokens", 28))
                .requestPreview("What is the capital of France?").responsePreview("Paris is the capital of France.");
        return trace.finish();
    }

    static void chatSpan(ActiveTrace trace) {
        LiveSpan s = trace.startSpan("Messages.create", MlflowKeys.SpanType.CHAT_MODEL, trace.root());
        s.inputs(Map.of("model", "claude-sonnet-5-5", "max_tokens", 4096, "stream", true,
                        "messages", List.of(Map.of("role", "user", "content", "What is the capital of France?"))))
                .attribute(MlflowKeys.Span.MESSAGE_FORMAT, "anthropic")
                .attribute(MlflowKeys.Span.LLM_MODEL, "claude-sonnet-5-5")
                .attribute(MlflowKeys.Span.LLM_PROVIDER, "anthropic")
                .attribute(MlflowKeys.Span.TOKEN_USAGE, Map.of("input_tokens", 20, "output_tokens", 8, "total_tokens", 28))
                .attribute(MlflowKeys.GenAi.REQUEST_MODEL, "claude-sonnet-5-5")
                .attribute("anthropic.request_id", "req_0123456789abcdef")
                .outputs(Map.of("id", "msg_01", "type", "message", "role", "assistant",
                        "content", List.of(Map.of("type", "text", "text", "Paris is the capital of France.")),
                        "stop_reason", "end_turn"));
        s.end();
    }
}
