package dev.agentfn.mlflow.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.entities.TraceState;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * MLflow V3 {@code TraceInfo} as proto3 JSON with snake_case names (what StartTraceV3 takes and
 * every V3 trace endpoint returns).
 */
public final class TraceInfoJson {
    /** Server-owned keys: echoing them back would duplicate or corrupt server state. */
    private static final Set<String> SERVER_TAGS = Set.of(
            MlflowKeys.Tag.SPANS_LOCATION, MlflowKeys.Tag.ARTIFACT_LOCATION);
    private static final Set<String> SERVER_METADATA = Set.of(MlflowKeys.Metadata.INFO_FINALIZED);
    private static final DateTimeFormatter RFC3339_MILLIS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private TraceInfoJson() {
    }

    /** StartTraceV3 body: {@code {"trace":{"trace_info":{...}}}}. */
    public static ObjectNode startTraceBody(TraceInfo info) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode();
        body.putObject("trace").set("trace_info", toTree(info));
        return body;
    }

    public static ObjectNode toTree(TraceInfo info) {
        ObjectNode t = JsonValues.MAPPER.createObjectNode();
        t.put("trace_id", info.traceId());
        if (info.clientRequestId() != null) {
            t.put("client_request_id", info.clientRequestId());
        }
        ObjectNode location = t.putObject("trace_location");
        location.put("type", "MLFLOW_EXPERIMENT");
        location.putObject("mlflow_experiment").put("experiment_id", info.experimentId());
        t.put("request_time", formatTimestamp(info.requestTimeMillis()));
        t.put("execution_duration", formatDuration(info.executionDurationMillis()));
        t.put("state", info.state().name());
        if (info.requestPreview() != null) {
            t.put("request_preview", info.requestPreview());
        }
        if (info.responsePreview() != null) {
            t.put("response_preview", info.responsePreview());
        }
        putStrings(t.putObject("trace_metadata"), info.metadata(), SERVER_METADATA);
        putStrings(t.putObject("tags"), info.tags(), SERVER_TAGS);
        return t;
    }

    /** Parses a StartTraceV3 / GetTraceInfoV3 response ({@code {"trace":{"trace_info":…}}}). */
    public static TraceInfo parseTraceResponse(JsonNode response) {
        JsonNode info = response.path("trace").path("trace_info");
        if (!info.isObject()) {
            throw new IllegalArgumentException("response has no trace.trace_info");
        }
        return parse(info);
    }

    /** Parses one {@code trace_info} object (also the elements of search results). */
    public static TraceInfo parse(JsonNode t) {
        return new TraceInfo(
                t.path("trace_id").asText(),
                t.path("trace_location").path("mlflow_experiment").path("experiment_id").asText(null),
                t.hasNonNull("client_request_id") ? t.get("client_request_id").asText() : null,
                t.hasNonNull("request_time") ? parseTimestamp(t.get("request_time").asText()) : 0L,
                t.hasNonNull("execution_duration") ? parseDuration(t.get("execution_duration").asText()) : 0L,
                parseState(t.path("state").asText("")),
                t.hasNonNull("request_preview") ? t.get("request_preview").asText() : null,
                t.hasNonNull("response_preview") ? t.get("response_preview").asText() : null,
                strings(t.path("trace_metadata")),
                strings(t.path("tags")));
    }

    public static String formatTimestamp(long epochMillis) {
        return RFC3339_MILLIS.format(Instant.ofEpochMilli(epochMillis));
    }

    /** Protobuf Duration JSON: seconds with exactly three fractional digits, e.g. {@code "1.234s"}. */
    public static String formatDuration(long millis) {
        // by hand: String.format parses its pattern on every call, and every trace write formats one
        long abs = Math.abs(millis);
        String fraction = Long.toString(abs % 1000);
        return (millis < 0 ? "-" : "") + abs / 1000 + "." + "00".substring(fraction.length() - 1) + fraction + "s";
    }

    public static long parseTimestamp(String rfc3339) {
        try {
            return Instant.parse(rfc3339).toEpochMilli();
        } catch (DateTimeParseException e) {
            return OffsetDateTime.parse(rfc3339).toInstant().toEpochMilli();
        }
    }

    public static long parseDuration(String duration) {
        String s = duration.endsWith("s") ? duration.substring(0, duration.length() - 1) : duration;
        return new BigDecimal(s).movePointRight(3).longValue();
    }

    private static TraceState parseState(String state) {
        try {
            return TraceState.valueOf(state);
        } catch (IllegalArgumentException e) {
            return TraceState.STATE_UNSPECIFIED;
        }
    }

    private static void putStrings(ObjectNode target, Map<String, String> values, Set<String> skip) {
        new TreeMap<>(values).forEach((k, v) -> {
            if (v != null && !skip.contains(k)) {
                target.put(k, v);
            }
        });
    }

    private static Map<String, String> strings(JsonNode obj) {
        Map<String, String> map = new LinkedHashMap<>();
        obj.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }
}
