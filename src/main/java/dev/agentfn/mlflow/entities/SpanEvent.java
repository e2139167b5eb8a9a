package dev.agentfn.mlflow.entities;

import java.util.Map;

/**
 * A timestamped event on a span (exceptions, retries).
 *
 * @param attributes values are JSON-able: String, Number, Boolean, List, Map
 */
public record SpanEvent(String name, long timeUnixNano, Map<String, Object> attributes) {
    public SpanEvent {
        attributes = Map.copyOf(attributes);
    }
}
