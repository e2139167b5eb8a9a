package dev.agentfn.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.json.JsonValues;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Fills the TraceInfo fields the server would otherwise derive from OTLP spans, so the trace looks
 * the same whichever path delivers it. Values the caller set are never overwritten.
 */
final class TraceInfoCompleter {
    private static final List<String> USAGE_KEYS = List.of(
            MlflowKeys.Usage.INPUT_TOKENS, MlflowKeys.Usage.OUTPUT_TOKENS, MlflowKeys.Usage.TOTAL_TOKENS);
    private static final List<String> OPTIONAL_USAGE_KEYS = List.of(
            MlflowKeys.Usage.CACHE_READ_INPUT_TOKENS, MlflowKeys.Usage.CACHE_CREATION_INPUT_TOKENS);

    private TraceInfoCompleter() {
    }

    /**
     * Previews are always computed here, as MLflow's Python client does, so both delivery
     * paths store the same text; values the caller set win.
     */
    static TraceInfo complete(Trace trace) {
        TraceInfo info = trace.info();
        Optional<SpanData> root = trace.spans().stream().filter(SpanData::isRoot).findFirst();
        Map<String, String> metadata = new LinkedHashMap<>(info.metadata());
        metadata.remove(MlflowKeys.Metadata.INFO_FINALIZED);
        metadata.putIfAbsent(MlflowKeys.Metadata.SCHEMA_VERSION, "3");
        // The full total travels with StartTraceV3, which makes it authoritative: re-sent OTLP
        // batches cannot add to it afterwards (additive totals on pre-3.17 servers).
        if (!metadata.containsKey(MlflowKeys.Metadata.TOKEN_USAGE)) {
            aggregateTokenUsage(trace.spans()).ifPresent(u -> metadata.put(MlflowKeys.Metadata.TOKEN_USAGE, u));
        }
        root.ifPresent(r -> {
            stringAttribute(r, MlflowKeys.Span.SESSION_ID).ifPresent(s -> metadata.putIfAbsent(MlflowKeys.Metadata.SESSION, s));
            stringAttribute(r, MlflowKeys.Span.USER_ID).ifPresent(u -> metadata.putIfAbsent(MlflowKeys.Metadata.USER, u));
        });
        Map<String, String> tags = new LinkedHashMap<>(info.tags());
        tags.remove(MlflowKeys.Tag.SPANS_LOCATION);
        tags.remove(MlflowKeys.Tag.ARTIFACT_LOCATION);
        root.ifPresent(r -> tags.putIfAbsent(MlflowKeys.Tag.TRACE_NAME, r.name()));
        String requestPreview = info.requestPreview();
        String responsePreview = info.responsePreview();
        if (root.isPresent()) {
            Map<String, Object> attrs = root.get().attributes();
            requestPreview = requestPreview != null ? requestPreview : Previews.request(attrs.get(MlflowKeys.Span.INPUTS));
            responsePreview = responsePreview != null ? responsePreview
                    : Previews.response(attrs.get(MlflowKeys.Span.OUTPUTS));
        }
        return new TraceInfo(info.traceId(), info.experimentId(), info.clientRequestId(), info.requestTimeMillis(),
                info.executionDurationMillis(), info.state(), Previews.truncate(requestPreview), Previews.truncate(responsePreview),
                metadata, tags);
    }

    /**
     * Sums span token usage the way MLflow's server does (3.17): a span counts only when no
     * ancestor carries usage, so a parent holding a roll-up is not added to its children.
     */
    static Optional<String> aggregateTokenUsage(List<SpanData> spans) {
        Map<String, SpanData> byId = new HashMap<>();
        spans.forEach(s -> byId.put(s.spanId(), s));
        Map<String, Long> totals = new LinkedHashMap<>();
        USAGE_KEYS.forEach(k -> totals.put(k, 0L));
        boolean any = false;
        for (SpanData span : spans) {
            Optional<JsonNode> usage = usage(span);
            if (usage.isEmpty() || hasAncestorWithUsage(span, byId)) {
                continue;
            }
            any = true;
            for (String key : USAGE_KEYS) {
                totals.merge(key, usage.get().path(key).asLong(0), Long::sum);
            }
            for (String key : OPTIONAL_USAGE_KEYS) {
                if (usage.get().has(key)) {
                    totals.merge(key, usage.get().path(key).asLong(0), Long::sum);
                }
            }
        }
        if (!any) {
            return Optional.empty();
        }
        ObjectNode json = JsonValues.MAPPER.createObjectNode();
        totals.forEach(json::put);
        return Optional.of(JsonValues.write(json));
    }

    private static boolean hasAncestorWithUsage(SpanData span, Map<String, SpanData> byId) {
        SpanData parent = span.isRoot() ? null : byId.get(span.parentSpanId());
        int guard = byId.size();
        while (parent != null && guard-- > 0) {
            if (usage(parent).isPresent()) {
                return true;
            }
            parent = parent.isRoot() ? null : byId.get(parent.parentSpanId());
        }
        return false;
    }

    private static Optional<JsonNode> usage(SpanData span) {
        return Optional.ofNullable(span.attributes().get(MlflowKeys.Span.TOKEN_USAGE))
                .map(TraceInfoCompleter::jsonOf)
                .filter(JsonNode::isObject);
    }

    /** Attribute values may be objects or their JSON text. */
    private static JsonNode jsonOf(Object value) {
        JsonNode node = JsonValues.toNode(value);
        if (node.isTextual()) {
            try {
                return JsonValues.parse(node.textValue());
            } catch (IllegalArgumentException notJson) {
                return node;
            }
        }
        return node;
    }

    private static Optional<String> stringAttribute(SpanData span, String key) {
        Object v = span.attributes().get(key);
        return v == null ? Optional.empty() : Optional.of(v.toString());
    }
}
