package dev.agentfn.mlflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.mlflow.MlflowApi.LogBatch;
import dev.agentfn.mlflow.MlflowApi.Metric;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanStatus;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.json.JsonValues;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TraceInfoCompleterTest {

    private static SpanData span(String id, String parent, Map<String, Object> attrs) {
        return new SpanData("0".repeat(32), id, parent, id, 1, 2, SpanStatus.OK, attrs, List.of());
    }

    private static Map<String, Object> usage(int in, int out) {
        return Map.of(MlflowKeys.Span.TOKEN_USAGE, Map.of("input_tokens", in, "output_tokens", out, "total_tokens", in + out));
    }

    @Test
    void tokenUsageSkipsSpansUnderARollup() {
        String a = "a".repeat(16);
        String b = "b".repeat(16);
        String c = "c".repeat(16);
        String d = "d".repeat(16);
        List<SpanData> spans = List.of(span(a, null, Map.of()), span(b, a, usage(10, 1)), span(c, b, usage(4, 1)),
                span(d, a, Map.of(MlflowKeys.Span.TOKEN_USAGE, "{\"input_tokens\":2,\"output_tokens\":3,\"total_tokens\":5}")));
        assertEquals("{\"input_tokens\":12,\"output_tokens\":4,\"total_tokens\":16}",
                TraceInfoCompleter.aggregateTokenUsage(spans).orElseThrow());
        assertTrue(TraceInfoCompleter.aggregateTokenUsage(List.of(span(a, null, Map.of()))).isEmpty());
    }

    @Test
    void completionKeepsCallerValuesAndDropsServerKeys() {
        Trace fixture = Fixtures.agentTrace("1");
        TraceInfo given = fixture.info();
        Map<String, String> md = new LinkedHashMap<>(given.metadata());
        md.put(MlflowKeys.Metadata.TOKEN_USAGE, "{\"total_tokens\":1}");
        md.put(MlflowKeys.Metadata.INFO_FINALIZED, "true");
        Map<String, String> tags = new LinkedHashMap<>(Map.of(MlflowKeys.Tag.SPANS_LOCATION, "TRACKING_STORE"));
        TraceInfo info = new TraceInfo(given.traceId(), "1", null, 1, 2, given.state(), "mine", null, md, tags);
        TraceInfo done = TraceInfoCompleter.complete(new Trace(info, fixture.spans()));
        assertEquals("{\"total_tokens\":1}", done.metadata().get(MlflowKeys.Metadata.TOKEN_USAGE));
        assertFalse(done.metadata().containsKey(MlflowKeys.Metadata.INFO_FINALIZED));
        assertFalse(done.tags().containsKey(MlflowKeys.Tag.SPANS_LOCATION));
        assertEquals("3", done.metadata().get(MlflowKeys.Metadata.SCHEMA_VERSION));
        assertEquals("claude_code_conversation", done.tags().get(MlflowKeys.Tag.TRACE_NAME));
        assertEquals("mine", done.requestPreview());
        assertEquals(JsonValues.writeValue(Fixtures.ROOT_OUTPUTS), done.responsePreview());
    }

    @Test
    void previewsFollowMlflowRules() {
        Map<String, Object> chat = Map.of("messages", List.of(
                Map.of("role", "user", "content", "first"),
                Map.of("role", "assistant", "content", "answer"),
                Map.of("role", "user", "content", List.of(Map.of("type", "text", "text", "second")))));
        assertEquals("second", Previews.request(chat));
        assertEquals("answer", Previews.response(chat));
        assertEquals("\"plain\"", Previews.request("plain"), "MLflow previews a string input as its JSON");
        assertEquals("{\"prompt\":\"hi\"}", Previews.request(Map.of("prompt", "hi")));
        String longText = "x".repeat(1200);
        String cut = Previews.request(Map.of("messages", List.of(Map.of("role", "user", "content", longText))));
        assertEquals(1000, cut.length());
        assertTrue(cut.endsWith("..."));
    }

    @Test
    void logBatchSplitsWithinLimits() {
        List<Metric> metrics = new ArrayList<>();
        for (int i = 0; i < 1700; i++) {
            metrics.add(new Metric("m", i, 0, i));
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < 150; i++) {
            params.put("p" + i, "v");
        }
        List<LogBatch> calls = new LogBatch("r", metrics, params, Map.of("t", "v")).split();
        assertEquals(3, calls.size());
        assertEquals(1700, calls.stream().mapToInt(c -> c.metrics().size()).sum());
        assertEquals(150, calls.stream().mapToInt(c -> c.params().size()).sum());
        assertEquals(1, calls.stream().mapToInt(c -> c.tags().size()).sum());
        calls.forEach(c -> assertTrue(c.metrics().size() + c.params().size() + c.tags().size() <= 1000));
        assertEquals(1, new LogBatch("r", List.of(), Map.of(), Map.of()).split().size());
    }
}
