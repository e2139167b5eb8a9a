package dev.agentfn.mlflow.entities;

import java.util.List;

/** A complete trace: its info and every finished span, root included. */
public record Trace(TraceInfo info, List<SpanData> spans) {
    public Trace {
        spans = List.copyOf(spans);
    }
}
