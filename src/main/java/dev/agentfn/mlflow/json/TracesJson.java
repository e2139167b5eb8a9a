package dev.agentfn.mlflow.json;

import dev.agentfn.mlflow.entities.TraceIds;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanEvent;
import dev.agentfn.mlflow.entities.SpanStatus;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.TreeMap;

/**
 * The {@code traces.json} artifact (path B), in the shape MLflow's {@code Span.from_dict} reads.
 *
 * <p>Ids are base64 of the raw bytes: 32 hex characters would also pass MLflow's base64 check
 * and decode to the wrong id. Every span attribute value is a JSON-encoded string and every
 * span carries {@code mlflow.traceRequestId}, without which {@code from_dict} raises.
 */
public final class TracesJson {
    private TracesJson() {
    }

    public static byte[] encode(List<SpanData> spans) {
        return JsonValues.write(toTree(spans)).getBytes(StandardCharsets.UTF_8);
    }

    public static ObjectNode toTree(List<SpanData> spans) {
        ObjectNode root = JsonValues.MAPPER.createObjectNode();
        ArrayNode array = root.putArray("spans");
        spans.forEach(span -> array.add(span(span)));
        return root;
    }

    static ObjectNode span(SpanData span) {
        ObjectNode s = JsonValues.MAPPER.createObjectNode();
        s.put("trace_id", base64(span.traceId(), 16, "traceId"));
        s.put("span_id", base64(span.spanId(), 8, "spanId"));
        if (span.isRoot()) {
            s.putNull("parent_span_id");
        } else {
            s.put("parent_span_id", base64(span.parentSpanId(), 8, "parentSpanId"));
        }
        s.put("name", span.name());
        s.put("start_time_unix_nano", span.startTimeUnixNano());
        s.put("end_time_unix_nano", span.endTimeUnixNano());
        ArrayNode events = s.putArray("events");
        span.events().forEach(e -> events.add(event(e)));
        s.set("status", status(span.status()));
        s.set("attributes", attributes(span));
        s.putArray("links");
        return s;
    }

    private static ObjectNode attributes(SpanData span) {
        ObjectNode attrs = JsonValues.MAPPER.createObjectNode();
        new TreeMap<>(span.attributes()).forEach((k, v) -> {
            if (v != null) {
                attrs.put(k, JsonValues.writeValue(v));
            }
        });
        attrs.put(MlflowKeys.Span.TRACE_REQUEST_ID, JsonValues.writeValue(TraceIds.mlflow(span.traceId())));
        return attrs;
    }

    /** Event attributes stay raw but must be OTel primitives, so containers become JSON text. */
    private static ObjectNode event(SpanEvent event) {
        ObjectNode e = JsonValues.MAPPER.createObjectNode();
        e.put("name", event.name());
        e.put("time_unix_nano", event.timeUnixNano());
        ObjectNode attrs = e.putObject("attributes");
        new TreeMap<>(event.attributes()).forEach((k, v) -> {
            if (v != null) {
                JsonNode node = JsonValues.toNode(v);
                attrs.set(k, node.isContainerNode() ? attrs.textNode(JsonValues.write(node)) : node);
            }
        });
        return e;
    }

    private static ObjectNode status(SpanStatus status) {
        ObjectNode s = JsonValues.MAPPER.createObjectNode();
        s.put("code", "STATUS_CODE_" + status.code().name());
        s.put("message", status.message());
        return s;
    }

    private static String base64(String hex, int bytes, String what) {
        return Base64.getEncoder().encodeToString(JsonValues.hexToBytes(hex, bytes, what));
    }
}
