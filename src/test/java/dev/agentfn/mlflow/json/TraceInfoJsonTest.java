package dev.agentfn.mlflow.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.entities.TraceState;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TraceInfoJsonTest {
    private final TraceInfo info = new TraceInfo("tr-4bf92f3577b34da6a3ce929d0e0e4736", "7", "req-1",
            1795500000123L, 1234, TraceState.OK, "in", "out",
            Map.of(MlflowKeys.Metadata.SCHEMA_VERSION, "3", MlflowKeys.Metadata.INFO_FINALIZED, "true"),
            Map.of(MlflowKeys.Tag.TRACE_NAME, "root", MlflowKeys.Tag.SPANS_LOCATION, "TRACKING_STORE",
                    MlflowKeys.Tag.ARTIFACT_LOCATION, "x"));

    @Test
    void startTraceBodyIsSnakeCaseProto3Json() {
        JsonNode t = TraceInfoJson.startTraceBody(info).get("trace").get("trace_info");
        assertEquals("tr-4bf92f3577b34da6a3ce929d0e0e4736", t.get("trace_id").asText());
        assertEquals("req-1", t.get("client_request_id").asText());
        assertEquals("MLFLOW_EXPERIMENT", t.get("trace_location").get("type").asText());
        assertEquals("7", t.get("trace_location").get("mlflow_experiment").get("experiment_id").asText());
        assertEquals("2026-11-24T06:00:00.123Z", t.get("request_time").asText());
        assertEquals("1.234s", t.get("execution_duration").asText());
        assertEquals("OK", t.get("state").asText());
        assertEquals("in", t.get("request_preview").asText());
        assertEquals("3", t.get("trace_metadata").get(MlflowKeys.Metadata.SCHEMA_VERSION).asText());
        assertFalse(t.get("trace_metadata").has(MlflowKeys.Metadata.INFO_FINALIZED));
        assertFalse(t.get("tags").has(MlflowKeys.Tag.SPANS_LOCATION));
        assertFalse(t.get("tags").has(MlflowKeys.Tag.ARTIFACT_LOCATION));
        assertEquals("root", t.get("tags").get(MlflowKeys.Tag.TRACE_NAME).asText());
    }

    @Test
    void durationsAndTimestamps() {
        assertEquals("0.000s", TraceInfoJson.formatDuration(0));
        assertEquals("0.007s", TraceInfoJson.formatDuration(7));
        assertEquals("61.000s", TraceInfoJson.formatDuration(61_000));
        assertEquals(1000, TraceInfoJson.parseDuration("1s"));
        assertEquals(1234, TraceInfoJson.parseDuration("1.234s"));
        assertEquals(1, TraceInfoJson.parseDuration("0.001500s"));
        assertEquals(1795500000123L, TraceInfoJson.parseTimestamp("2026-11-24T06:00:00.123Z"));
        assertEquals(1795500000123L, TraceInfoJson.parseTimestamp("2026-11-24T07:00:00.123+01:00"));
    }

    @Test
    void parsesTheServerResponse() {
        String response = """
                {"trace":{"trace_info":{"trace_id":"tr-e0aa86ffdfff7d4d85582cd7884a7fee","client_request_id":"cr1",
                "trace_location":{"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"1"}},
                "request_time":"2026-11-24T06:26:25.981Z","execution_duration":"1s","state":"OK",
                "trace_metadata":{"mlflow.trace.infoFinalized":"true"},
                "tags":{"mlflow.artifactLocation":"mlflow-artifacts:/1/traces/tr-e0aa86ffdfff7d4d85582cd7884a7fee/artifacts",
                "mlflow.trace.spansLocation":"TRACKING_STORE"}}}}""";
        TraceInfo parsed = TraceInfoJson.parseTraceResponse(JsonValues.parse(response));
        assertEquals("tr-e0aa86ffdfff7d4d85582cd7884a7fee", parsed.traceId());
        assertEquals("1", parsed.experimentId());
        assertEquals(1000, parsed.executionDurationMillis());
        assertEquals(TraceState.OK, parsed.state());
        assertNull(parsed.requestPreview());
        assertEquals("TRACKING_STORE", parsed.tags().get(MlflowKeys.Tag.SPANS_LOCATION));
        assertEquals("mlflow-artifacts:/1/traces/tr-e0aa86ffdfff7d4d85582cd7884a7fee/artifacts",
                parsed.tags().get(MlflowKeys.Tag.ARTIFACT_LOCATION));
    }
}
