package dev.agentfn.mlflow.otlp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanEvent;
import dev.agentfn.mlflow.entities.SpanStatus;
import dev.agentfn.mlflow.json.JsonValues;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Encodes spans as an OTLP {@code ExportTraceServiceRequest} (protobuf, no library).
 *
 * <p>Attribute values (see docs/mlflow-wire-notes.md for the experiments behind this):
 * <ul>
 *   <li>Map and List values travel as kvlist/array AnyValues: MLflow decodes them to the
 *       original objects with number types intact.</li>
 *   <li>A String that Python's {@code json.loads} would turn into a str/dict/list is sent
 *       JSON-encoded, because the server's {@code sanitize_attributes} strips one JSON layer
 *       from such values; everything else is sent as the plain string.</li>
 *   <li>{@code mlflow.traceRequestId} is never sent: the server derives it (MLflow #23051).</li>
 * </ul>
 * Event attributes are not sanitized by the server but must be OTel primitives, so Map/List
 * event values are sent as JSON strings.
 */
public final class OtlpProtobufEncoder {
    // Field numbers from opentelemetry/proto/{collector/trace,trace,common,resource}/v1/*.proto
    static final int REQUEST_RESOURCE_SPANS = 1;
    static final int RESOURCE_SPANS_RESOURCE = 1;
    static final int RESOURCE_SPANS_SCOPE_SPANS = 2;
    static final int RESOURCE_ATTRIBUTES = 1;
    static final int SCOPE_SPANS_SCOPE = 1;
    static final int SCOPE_SPANS_SPANS = 2;
    static final int SCOPE_NAME = 1;
    static final int SPAN_TRACE_ID = 1;
    static final int SPAN_SPAN_ID = 2;
    static final int SPAN_PARENT_SPAN_ID = 4;
    static final int SPAN_NAME = 5;
    static final int SPAN_KIND = 6;
    static final int SPAN_START = 7;
    static final int SPAN_END = 8;
    static final int SPAN_ATTRIBUTES = 9;
    static final int SPAN_EVENTS = 11;
    static final int SPAN_STATUS = 15;
    static final int EVENT_TIME = 1;
    static final int EVENT_NAME = 2;
    static final int EVENT_ATTRIBUTES = 3;
    static final int STATUS_MESSAGE = 2;
    static final int STATUS_CODE = 3;
    static final int KV_KEY = 1;
    static final int KV_VALUE = 2;
    static final int ANY_STRING = 1;
    static final int ANY_BOOL = 2;
    static final int ANY_INT = 3;
    static final int ANY_DOUBLE = 4;
    static final int ANY_ARRAY = 5;
    static final int ANY_KVLIST = 6;
    static final int LIST_VALUES = 1;
    static final int SPAN_KIND_INTERNAL = 1;

    public byte[] encode(List<SpanData> spans, Map<String, String> resourceAttributes, String scopeName) {
        return encodeRequest(List.of(encodeSpans(spans)), resourceAttributes, scopeName);
    }

    /**
     * The spans as encoded {@code ScopeSpans.spans} fields: a fragment that {@link #encodeRequest} joins
     * with others into one request, so traces batched together are each encoded once.
     *
     * @throws IllegalArgumentException for an invalid trace or span id
     */
    public byte[] encodeSpans(List<SpanData> spans) {
        ProtoWriter fragment = new ProtoWriter();
        for (SpanData span : spans) {
            fragment.message(SCOPE_SPANS_SPANS, span(span));
        }
        return fragment.toByteArray();
    }

    /** One {@code ExportTraceServiceRequest} holding the fragments of {@link #encodeSpans}, in order. */
    public byte[] encodeRequest(List<byte[]> spanFragments, Map<String, String> resourceAttributes, String scopeName) {
        ProtoWriter scopeSpans = new ProtoWriter()
                .message(SCOPE_SPANS_SCOPE, new ProtoWriter().stringIfNotEmpty(SCOPE_NAME, scopeName));
        spanFragments.forEach(scopeSpans::raw);
        ProtoWriter resource = new ProtoWriter();
        new TreeMap<>(resourceAttributes).forEach((k, v) ->
                resource.message(RESOURCE_ATTRIBUTES, keyValue(k, new ProtoWriter().string(ANY_STRING, v))));
        ProtoWriter resourceSpans = new ProtoWriter()
                .message(RESOURCE_SPANS_RESOURCE, resource)
                .message(RESOURCE_SPANS_SCOPE_SPANS, scopeSpans);
        return new ProtoWriter().message(REQUEST_RESOURCE_SPANS, resourceSpans).toByteArray();
    }

    private static ProtoWriter span(SpanData span) {
        ProtoWriter w = new ProtoWriter()
                .bytes(SPAN_TRACE_ID, JsonValues.hexToBytes(span.traceId(), 16, "traceId"))
                .bytes(SPAN_SPAN_ID, JsonValues.hexToBytes(span.spanId(), 8, "spanId"));
        if (!span.isRoot()) {
            w.bytes(SPAN_PARENT_SPAN_ID, JsonValues.hexToBytes(span.parentSpanId(), 8, "parentSpanId"));
        }
        w.string(SPAN_NAME, span.name())
                .varint(SPAN_KIND, SPAN_KIND_INTERNAL)
                .fixed64(SPAN_START, span.startTimeUnixNano())
                .fixed64(SPAN_END, span.endTimeUnixNano());
        new TreeMap<>(span.attributes()).forEach((k, v) -> {
            if (v != null && !MlflowKeys.Span.TRACE_REQUEST_ID.equals(k)) {
                w.message(SPAN_ATTRIBUTES, keyValue(k, spanAttributeValue(v)));
            }
        });
        for (SpanEvent event : span.events()) {
            w.message(SPAN_EVENTS, event(event));
        }
        return w.message(SPAN_STATUS, status(span.status()));
    }

    private static ProtoWriter event(SpanEvent event) {
        ProtoWriter w = new ProtoWriter()
                .fixed64(EVENT_TIME, event.timeUnixNano())
                .string(EVENT_NAME, event.name());
        new TreeMap<>(event.attributes()).forEach((k, v) -> {
            if (v != null) {
                w.message(EVENT_ATTRIBUTES, keyValue(k, eventAttributeValue(JsonValues.toNode(v))));
            }
        });
        return w;
    }

    private static ProtoWriter status(SpanStatus status) {
        ProtoWriter w = new ProtoWriter().stringIfNotEmpty(STATUS_MESSAGE, status.message());
        int code = switch (status.code()) {
            case UNSET -> 0;
            case OK -> 1;
            case ERROR -> 2;
        };
        return code == 0 ? w : w.varint(STATUS_CODE, code);
    }

    private static ProtoWriter keyValue(String key, ProtoWriter anyValue) {
        return new ProtoWriter().string(KV_KEY, key).message(KV_VALUE, anyValue);
    }

    static ProtoWriter spanAttributeValue(Object value) {
        String text = value instanceof CharSequence s ? s.toString()
                : value instanceof JsonNode n && n.isTextual() ? n.textValue() : null;
        if (text != null && JsonValues.parsesAsJsonContainerOrString(text)) {
            return new ProtoWriter().string(ANY_STRING, JsonValues.write(JsonValues.toNode(text)));
        }
        return anyValue(value);
    }

    /**
     * The AnyValue of a span value as {@link JsonValues#toNode} would make it a tree and {@link #anyValue(JsonNode)}
     * encode that tree, without building the tree: span values are maps and lists (a whole request body), and
     * copying them into a tree first doubled the encoder's work.
     */
    static ProtoWriter anyValue(Object value) {
        if (value instanceof Map<?, ?> map) {
            ProtoWriter list = new ProtoWriter();
            map.forEach((k, v) -> list.message(LIST_VALUES, keyValue(String.valueOf(k), anyValue(v))));
            return new ProtoWriter().message(ANY_KVLIST, list);
        }
        if (value instanceof Collection<?> values) {
            ProtoWriter list = new ProtoWriter();
            values.forEach(v -> list.message(LIST_VALUES, anyValue(v)));
            return new ProtoWriter().message(ANY_ARRAY, list);
        }
        if (value instanceof CharSequence s) {
            return new ProtoWriter().string(ANY_STRING, s.toString());
        }
        if (value instanceof Boolean b) {
            return new ProtoWriter().bool(ANY_BOOL, b);
        }
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            return new ProtoWriter().varint(ANY_INT, ((Number) value).longValue());
        }
        if (value instanceof Double || value instanceof Float) {
            return new ProtoWriter().doubleValue(ANY_DOUBLE, ((Number) value).doubleValue());
        }
        // JsonNode, null, arrays, big numbers and anything rarer: through the tree, as before
        return anyValue(JsonValues.toNode(value));
    }

    private static ProtoWriter eventAttributeValue(JsonNode node) {
        if (node.isContainerNode()) {
            return new ProtoWriter().string(ANY_STRING, JsonValues.write(node));
        }
        return anyValue(node);
    }

    /** Null yields an empty AnyValue, which MLflow decodes to None. */
    static ProtoWriter anyValue(JsonNode node) {
        ProtoWriter w = new ProtoWriter();
        if (node.isTextual()) {
            return w.string(ANY_STRING, node.textValue());
        }
        if (node.isBoolean()) {
            return w.bool(ANY_BOOL, node.booleanValue());
        }
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return w.varint(ANY_INT, node.longValue());
        }
        if (node.isNumber()) {
            return w.doubleValue(ANY_DOUBLE, node.doubleValue());
        }
        if (node.isArray()) {
            ProtoWriter list = new ProtoWriter();
            node.forEach(v -> list.message(LIST_VALUES, anyValue(v)));
            return w.message(ANY_ARRAY, list);
        }
        if (node.isObject()) {
            ProtoWriter list = new ProtoWriter();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                list.message(LIST_VALUES, keyValue(e.getKey(), anyValue(e.getValue())));
            }
            return w.message(ANY_KVLIST, list);
        }
        return w;
    }
}
