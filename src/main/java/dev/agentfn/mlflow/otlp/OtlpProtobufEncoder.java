package dev.agentfn.mlflow.otlp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanEvent;
import dev.agentfn.mlflow.entities.SpanStatus;
import dev.agentfn.mlflow.json.JsonValues;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

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
        ProtoWriter w = new ProtoWriter(2048);
        for (SpanData span : spans) {
            int m = w.begin(SCOPE_SPANS_SPANS);
            span(w, span);
            w.end(m);
        }
        return w.toByteArray();
    }

    /** One {@code ExportTraceServiceRequest} holding the fragments of {@link #encodeSpans}, in order. */
    public byte[] encodeRequest(List<byte[]> spanFragments, Map<String, String> resourceAttributes, String scopeName) {
        int payload = spanFragments.stream().mapToInt(f -> f.length).sum();
        ProtoWriter w = new ProtoWriter(payload + 256);
        int request = w.begin(REQUEST_RESOURCE_SPANS);
        int resource = w.begin(RESOURCE_SPANS_RESOURCE);
        new TreeMap<>(resourceAttributes).forEach((k, v) -> {
            long kv = beginKeyValue(w, RESOURCE_ATTRIBUTES, k);
            w.string(ANY_STRING, v);
            endKeyValue(w, kv);
        });
        w.end(resource);
        int scopeSpans = w.begin(RESOURCE_SPANS_SCOPE_SPANS);
        int scope = w.begin(SCOPE_SPANS_SCOPE);
        w.stringIfNotEmpty(SCOPE_NAME, scopeName).end(scope);
        spanFragments.forEach(w::raw);
        return w.end(scopeSpans).end(request).toByteArray();
    }

    private static void span(ProtoWriter w, SpanData span) {
        w.bytes(SPAN_TRACE_ID, JsonValues.hexToBytes(span.traceId(), 16, "traceId"))
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
                long kv = beginKeyValue(w, SPAN_ATTRIBUTES, k);
                spanAttributeValue(w, v);
                endKeyValue(w, kv);
            }
        });
        for (SpanEvent event : span.events()) {
            int m = w.begin(SPAN_EVENTS);
            event(w, event);
            w.end(m);
        }
        int m = w.begin(SPAN_STATUS);
        status(w, span.status());
        w.end(m);
    }

    private static void event(ProtoWriter w, SpanEvent event) {
        w.fixed64(EVENT_TIME, event.timeUnixNano()).string(EVENT_NAME, event.name());
        new TreeMap<>(event.attributes()).forEach((k, v) -> {
            if (v != null) {
                long kv = beginKeyValue(w, EVENT_ATTRIBUTES, k);
                eventAttributeValue(w, JsonValues.toNode(v));
                endKeyValue(w, kv);
            }
        });
    }

    private static void status(ProtoWriter w, SpanStatus status) {
        w.stringIfNotEmpty(STATUS_MESSAGE, status.message());
        int code = switch (status.code()) {
            case UNSET -> 0;
            case OK -> 1;
            case ERROR -> 2;
        };
        if (code != 0) {
            w.varint(STATUS_CODE, code);
        }
    }

    /**
     * Opens a {@code KeyValue} in {@code field} and, in it, the {@code AnyValue} the caller writes next; {@link
     * #endKeyValue} closes both. Returns both marks in one long (KeyValue's high, AnyValue's low): no object per
     * attribute.
     */
    private static long beginKeyValue(ProtoWriter w, int field, String key) {
        int kv = w.begin(field);
        int any = w.string(KV_KEY, key).begin(KV_VALUE);
        return ((long) kv << 32) | any;
    }

    private static void endKeyValue(ProtoWriter w, long marks) {
        w.end((int) marks).end((int) (marks >>> 32));
    }

    /** Writes a span attribute's AnyValue fields. */
    static void spanAttributeValue(ProtoWriter w, Object value) {
        String text = value instanceof CharSequence s ? s.toString()
                : value instanceof JsonNode n && n.isTextual() ? n.textValue() : null;
        if (text != null && JsonValues.parsesAsJsonContainerOrString(text)) {
            w.string(ANY_STRING, JsonValues.write(JsonValues.toNode(text)));
            return;
        }
        anyValue(w, value);
    }

    /**
     * Writes the AnyValue fields of a span value as {@link JsonValues#toNode} would make it a tree and {@link
     * #anyValue(ProtoWriter, JsonNode)} encode that tree, without building the tree: span values are maps and lists
     * (a whole request body), and copying them into a tree first doubled the encoder's work.
     */
    static void anyValue(ProtoWriter w, Object value) {
        if (value instanceof Map<?, ?> map) {
            kvlist(w, map.entrySet(), OtlpProtobufEncoder::anyValue);
        } else if (value instanceof Collection<?> values) {
            array(w, values, OtlpProtobufEncoder::anyValue);
        } else if (value instanceof CharSequence s) {
            w.string(ANY_STRING, s.toString());
        } else if (value instanceof Boolean b) {
            w.bool(ANY_BOOL, b);
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            w.varint(ANY_INT, ((Number) value).longValue());
        } else if (value instanceof Double || value instanceof Float) {
            w.doubleValue(ANY_DOUBLE, ((Number) value).doubleValue());
        } else {
            // JsonNode, null, arrays, big numbers and anything rarer: through the tree, as before
            anyValue(w, JsonValues.toNode(value));
        }
    }

    private static void eventAttributeValue(ProtoWriter w, JsonNode node) {
        if (node.isContainerNode()) {
            w.string(ANY_STRING, JsonValues.write(node));
        } else {
            anyValue(w, node);
        }
    }

    /** Writes the AnyValue fields of a tree; null writes none, an empty AnyValue, which MLflow decodes to None. */
    static void anyValue(ProtoWriter w, JsonNode node) {
        if (node.isTextual()) {
            w.string(ANY_STRING, node.textValue());
        } else if (node.isBoolean()) {
            w.bool(ANY_BOOL, node.booleanValue());
        } else if (node.isIntegralNumber() && node.canConvertToLong()) {
            w.varint(ANY_INT, node.longValue());
        } else if (node.isNumber()) {
            w.doubleValue(ANY_DOUBLE, node.doubleValue());
        } else if (node.isArray()) {
            array(w, node, OtlpProtobufEncoder::anyValue);
        } else if (node.isObject()) {
            kvlist(w, node.properties(), OtlpProtobufEncoder::anyValue);
        }
    }

    /** An ArrayValue of the values, each written by {@code value}; one loop for Java lists and JSON arrays. */
    private static <V> void array(ProtoWriter w, Iterable<V> values, BiConsumer<ProtoWriter, V> value) {
        int list = w.begin(ANY_ARRAY);
        for (V v : values) {
            int any = w.begin(LIST_VALUES);
            value.accept(w, v);
            w.end(any);
        }
        w.end(list);
    }

    /** A KeyValueList of the entries, each value written by {@code value}; one loop for Java maps and JSON objects. */
    private static <V> void kvlist(ProtoWriter w, Iterable<? extends Map.Entry<?, V>> entries,
            BiConsumer<ProtoWriter, V> value) {
        int list = w.begin(ANY_KVLIST);
        for (Map.Entry<?, V> e : entries) {
            long kv = beginKeyValue(w, LIST_VALUES, String.valueOf(e.getKey()));
            value.accept(w, e.getValue());
            endKeyValue(w, kv);
        }
        w.end(list);
    }
}
