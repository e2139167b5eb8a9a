package dev.agentfn.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanStatus;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceState;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ActiveTraceTest {
    final AtomicLong now = new AtomicLong(1_000_000_000L);
    final AttributePolicy policy = new AttributePolicy(true, 65536, List.of(), List.of());

    @Test
    void recordingTraceKeepsWhatItIsGiven() {
        Trace t = scripted(new Tracer(() -> now.getAndAdd(1_000_000L), policy, false, true));
        SpanData root = root(t);
        assertEquals(Map.of("prompt", "hi"), root.attributes().get(MlflowKeys.Span.INPUTS));
        assertEquals("s-1", t.info().metadata().get(MlflowKeys.Metadata.SESSION));
        assertEquals("v", t.info().tags().get("k"));
        assertEquals("hi", t.info().requestPreview());
        assertEquals(1, child(t).events().size());
    }

    @Test
    void nonRecordingTraceKeepsIdsTimingAndStatusButDropsValues() {
        Tracer tracer = new Tracer(() -> now.getAndAdd(1_000_000L), policy, false, false);
        Trace t = scripted(tracer);
        SpanData root = root(t);
        SpanData child = child(t);
        assertEquals(Map.of(MlflowKeys.Span.TYPE, MlflowKeys.SpanType.AGENT), root.attributes());
        assertEquals(Map.of(MlflowKeys.Span.TYPE, MlflowKeys.SpanType.TOOL), child.attributes());
        assertTrue(child.events().isEmpty(), "events are values too");
        assertEquals(SpanStatus.Code.ERROR, child.status().code(), "status still says what failed");
        assertEquals(root.spanId(), child.parentSpanId());
        assertTrue(child.endTimeUnixNano() > child.startTimeUnixNano());
        assertEquals(TraceState.OK, t.info().state());
        assertFalse(t.info().metadata().containsKey(MlflowKeys.Metadata.SESSION));
        assertTrue(t.info().tags().getOrDefault("k", "").isEmpty());
        assertEquals("", t.info().requestPreview());
    }

    private static Trace scripted(Tracer tracer) {
        ActiveTrace trace = tracer.start("agent_invocation", MlflowKeys.SpanType.AGENT, Optional.empty());
        assertEquals(tracer.recording(), trace.isRecording());
        trace.root().inputs(Map.of("prompt", "hi"));
        trace.metadata(MlflowKeys.Metadata.SESSION, "s-1").tag("k", "v").requestPreview("hi");
        LiveSpan tool = trace.startSpan("tool_x", MlflowKeys.SpanType.TOOL, trace.root());
        tool.attribute("tool_name", "x").recordError("ToolError", "boom", new IllegalStateException("boom"));
        tool.end();
        return trace.finish();
    }

    private static SpanData root(Trace t) {
        return t.spans().stream().filter(SpanData::isRoot).findFirst().orElseThrow();
    }

    private static SpanData child(Trace t) {
        return t.spans().stream().filter(s -> !s.isRoot()).findFirst().orElseThrow();
    }
}
