package dev.agentfn.tracing.spool;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanEvent;
import dev.agentfn.mlflow.entities.SpanStatus;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.entities.TraceState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Lossless JSON form of a {@link Trace} for the spool (not an MLflow format), with the destination it was
 * spooled for. Version 1 files (before destinations were recorded) decode with no destination.
 */
public final class TraceCodec {
    private static final int VERSION = 2;
    private static final int VERSION_WITHOUT_DESTINATION = 1;
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {
    };
    private final ObjectMapper json;

    public TraceCodec(ObjectMapper json) {
        this.json = json;
    }

    /** A spooled trace and the destination recorded with it (null: written before destinations were recorded). */
    public record Decoded(String destination, Trace trace) {
    }

    public byte[] encode(Trace trace, String destination) throws IOException {
        ObjectNode root = json.createObjectNode().put("v", VERSION).put("destination", destination);
        if (trace.spansOnly()) {
            root.put("spans_only", true);
        }
        root.set("info", info(trace.info()));
        ArrayNode spans = root.putArray("spans");
        trace.spans().forEach(s -> spans.add(span(s)));
        return json.writeValueAsBytes(root);
    }

    public Decoded decode(byte[] bytes) throws IOException {
        JsonNode root = json.readTree(bytes);
        int version = root == null ? 0 : root.path("v").asInt();
        if (version != VERSION && version != VERSION_WITHOUT_DESTINATION) {
            throw new IOException("not a spooled trace of version " + VERSION_WITHOUT_DESTINATION + " or " + VERSION);
        }
        List<SpanData> spans = new ArrayList<>();
        for (JsonNode s : root.withArray("spans")) {
            spans.add(span(s));
        }
        return new Decoded(text(root, "destination"),
                new Trace(info(root.path("info")), spans, root.path("spans_only").asBoolean(false)));
    }

    private ObjectNode info(TraceInfo i) {
        ObjectNode n = json.createObjectNode();
        n.put("trace_id", i.traceId()).put("experiment_id", i.experimentId()).put("client_request_id", i.clientRequestId())
                .put("request_time_ms", i.requestTimeMillis()).put("duration_ms", i.executionDurationMillis())
                .put("state", i.state().name()).put("request_preview", i.requestPreview())
                .put("response_preview", i.responsePreview());
        n.set("metadata", json.valueToTree(i.metadata()));
        n.set("tags", json.valueToTree(i.tags()));
        return n;
    }

    private TraceInfo info(JsonNode n) {
        return new TraceInfo(n.path("trace_id").asText(), text(n, "experiment_id"), text(n, "client_request_id"),
                n.path("request_time_ms").asLong(), n.path("duration_ms").asLong(),
                TraceState.valueOf(n.path("state").asText()), n.path("request_preview").asText(""),
                n.path("response_preview").asText(""), json.convertValue(n.path("metadata"), STRING_MAP),
                json.convertValue(n.path("tags"), STRING_MAP));
    }

    private ObjectNode span(SpanData s) {
        ObjectNode n = json.createObjectNode();
        n.put("trace_id", s.traceId()).put("span_id", s.spanId()).put("parent_span_id", s.parentSpanId())
                .put("name", s.name()).put("start", s.startTimeUnixNano()).put("end", s.endTimeUnixNano())
                .put("status_code", s.status().code().name()).put("status_message", s.status().message());
        n.set("attributes", json.valueToTree(s.attributes()));
        ArrayNode events = n.putArray("events");
        for (SpanEvent e : s.events()) {
            ObjectNode en = events.addObject().put("name", e.name()).put("time", e.timeUnixNano());
            en.set("attributes", json.valueToTree(e.attributes()));
        }
        return n;
    }

    private SpanData span(JsonNode n) {
        List<SpanEvent> events = new ArrayList<>();
        for (JsonNode e : n.withArray("events")) {
            events.add(new SpanEvent(e.path("name").asText(), e.path("time").asLong(),
                    json.convertValue(e.path("attributes"), MAP)));
        }
        SpanStatus status = new SpanStatus(SpanStatus.Code.valueOf(n.path("status_code").asText()),
                n.path("status_message").asText(""));
        return new SpanData(n.path("trace_id").asText(), n.path("span_id").asText(), text(n, "parent_span_id"),
                n.path("name").asText(), n.path("start").asLong(), n.path("end").asLong(), status,
                json.convertValue(n.path("attributes"), MAP), events);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
