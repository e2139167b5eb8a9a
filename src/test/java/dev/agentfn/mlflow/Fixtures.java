package dev.agentfn.mlflow;

import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanEvent;
import dev.agentfn.mlflow.entities.SpanStatus;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.entities.TraceState;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A small agent trace: AGENT root, two CHAT_MODEL calls with usage, one failed TOOL call. */
final class Fixtures {
    private static final SecureRandom RANDOM = new SecureRandom();

    static final Map<String, Object> ROOT_INPUTS = Map.of(
            "prompt", "What is 2+2?", "n", 3, "ratio", 0.5, "flags", List.of(true, false),
            "nested", Map.of("k", "v", "list", List.of(1, "two", 3.5)));
    static final Map<String, Object> ROOT_OUTPUTS = Map.of("status", "completed", "response", "4");
    static final Map<String, Object> USAGE_1 = Map.of("input_tokens", 10, "output_tokens", 5, "total_tokens", 15);
    static final Map<String, Object> USAGE_2 = Map.of("input_tokens", 24, "output_tokens", 7, "total_tokens", 31,
            "cache_read_input_tokens", 4);

    private Fixtures() {
    }

    static String hex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static Trace agentTrace(String experimentId) {
        return agentTrace(experimentId, Map.of());
    }

    static Trace agentTrace(String experimentId, Map<String, String> extraMetadata) {
        String traceId = hex(16);
        String root = hex(8);
        long t0 = System.currentTimeMillis() * 1_000_000L;
        long s = 1_000_000_000L;
        Map<String, Object> rootAttrs = new LinkedHashMap<>();
        rootAttrs.put(MlflowKeys.Span.TYPE, MlflowKeys.SpanType.AGENT);
        rootAttrs.put(MlflowKeys.Span.INPUTS, ROOT_INPUTS);
        rootAttrs.put(MlflowKeys.Span.OUTPUTS, ROOT_OUTPUTS);
        rootAttrs.put(MlflowKeys.Span.SESSION_ID, "session-1");
        rootAttrs.put(MlflowKeys.Span.USER_ID, "user-1");
        rootAttrs.put("agentfn.looks_like_json", "{\"not\":\"an object\"}");
        rootAttrs.put("agentfn.quoted", "\"quoted\"");
        rootAttrs.put("agentfn.number_text", "42");
        List<SpanData> spans = List.of(
                new SpanData(traceId, root, null, "claude_code_conversation", t0, t0 + 5 * s, SpanStatus.OK,
                        rootAttrs, List.of()),
                new SpanData(traceId, hex(8), root, "llm_call_1", t0 + s / 10, t0 + s, SpanStatus.OK,
                        Map.of(MlflowKeys.Span.TYPE, MlflowKeys.SpanType.CHAT_MODEL,
                                MlflowKeys.Span.INPUTS, Map.of("messages", List.of(Map.of("role", "user", "content", "What is 2+2?"))),
                                MlflowKeys.Span.OUTPUTS, Map.of("type", "message", "role", "assistant", "content", List.of()),
                                MlflowKeys.Span.TOKEN_USAGE, USAGE_1,
                                MlflowKeys.Span.LLM_MODEL, "claude-sonnet-4-5"),
                        List.of()),
                new SpanData(traceId, hex(8), root, "Bash", t0 + s, t0 + 2 * s, SpanStatus.error("RuntimeError: boom"),
                        Map.of(MlflowKeys.Span.TYPE, MlflowKeys.SpanType.TOOL,
                                MlflowKeys.Span.INPUTS, Map.of("command", "ls"),
                                MlflowKeys.Span.OUTPUTS, "plain text output"),
                        List.of(new SpanEvent("exception", t0 + 2 * s - 1, Map.of(
                                "exception.type", "RuntimeError", "exception.message", "boom",
                                "exception.stacktrace", "at line 1", "agentfn.details", Map.of("retry", 1))))),
                new SpanData(traceId, hex(8), root, "llm_call_2", t0 + 2 * s, t0 + 4 * s, SpanStatus.OK,
                        Map.of(MlflowKeys.Span.TYPE, MlflowKeys.SpanType.CHAT_MODEL,
                                MlflowKeys.Span.INPUTS, "just a string input",
                                MlflowKeys.Span.OUTPUTS, List.of("a", 1, Map.of("b", 2.25)),
                                MlflowKeys.Span.TOKEN_USAGE, USAGE_2),
                        List.of()));
        Map<String, String> metadata = new LinkedHashMap<>(Map.of(
                MlflowKeys.Metadata.SESSION, "session-1",
                MlflowKeys.Metadata.USER, "user-1",
                MlflowKeys.Metadata.AGENTFN_ENGINE, "test"));
        metadata.putAll(extraMetadata);
        TraceInfo info = new TraceInfo("tr-" + traceId, experimentId, null, t0 / 1_000_000, 5000, TraceState.OK,
                null, null, metadata, Map.of(MlflowKeys.Tag.TRACE_NAME, "claude_code_conversation", "agentfn.tag", "x"));
        return new Trace(info, spans);
    }
}
