package dev.agentfn.mlflow.entities;

import java.util.List;
import java.util.Map;

/**
 * One finished span, immutable.
 *
 * <p>Attribute values are plain JSON-able Java values (String, Number, Boolean, List, Map, or
 * null-free nesting of those). The wire encoders decide how each travels: OTLP AnyValues,
 * or JSON-encoded strings in {@code traces.json}.
 *
 * @param traceId 16 raw bytes as 32 lowercase hex characters
 * @param spanId 8 raw bytes as 16 lowercase hex characters
 * @param parentSpanId 16 hex characters, or {@code null} for the root span
 */
public record SpanData(
        String traceId,
        String spanId,
        String parentSpanId,
        String name,
        long startTimeUnixNano,
        long endTimeUnixNano,
        SpanStatus status,
        Map<String, Object> attributes,
        List<SpanEvent> events) {

    public SpanData {
        attributes = Map.copyOf(attributes);
        events = List.copyOf(events);
    }

    public boolean isRoot() {
        return parentSpanId == null;
    }
}
