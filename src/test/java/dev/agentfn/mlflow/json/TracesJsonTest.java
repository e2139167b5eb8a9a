package dev.agentfn.mlflow.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanEvent;
import dev.agentfn.mlflow.entities.SpanStatus;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TracesJsonTest {
    static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String ROOT = "00f067aa0ba902b7";
    static final String CHILD = "1111111111111111";

    private final List<SpanData> spans = List.of(
            new SpanData(TRACE, ROOT, null, "root", 10, 20, SpanStatus.OK,
                    Map.of(MlflowKeys.Span.TYPE, "AGENT", MlflowKeys.Span.INPUTS, Map.of("prompt", "hi"),
                            "n", 3, MlflowKeys.Span.TRACE_REQUEST_ID, "ignored"), List.of()),
            new SpanData(TRACE, CHILD, ROOT, "tool", 11, 19, SpanStatus.error("Boom: x"),
                    Map.of(MlflowKeys.Span.OUTPUTS, "text"),
                    List.of(new SpanEvent("exception", 15, Map.of("exception.type", "Boom", "n", 2,
                            "data", List.of(1, 2))))));

    private JsonNode encoded() {
        return JsonValues.parse(new String(TracesJson.encode(spans), StandardCharsets.UTF_8));
    }

    @Test
    void idsAreBase64OfRawBytes() {
        JsonNode root = encoded().get("spans").get(0);
        assertEquals(Base64.getEncoder().encodeToString(HexFormat.of().parseHex(TRACE)), root.get("trace_id").asText());
        assertEquals(16, Base64.getDecoder().decode(root.get("trace_id").asText()).length);
        assertEquals(8, Base64.getDecoder().decode(root.get("span_id").asText()).length);
        assertEquals("APBnqgupArc=", root.get("span_id").asText());
        assertTrue(root.get("parent_span_id").isNull());
        JsonNode child = encoded().get("spans").get(1);
        assertEquals(root.get("span_id"), child.get("parent_span_id"));
    }

    @Test
    void everyAttributeIsAJsonEncodedStringAndCarriesTheRequestId() {
        JsonNode attrs = encoded().get("spans").get(0).get("attributes");
        assertEquals("\"AGENT\"", attrs.get(MlflowKeys.Span.TYPE).asText());
        assertEquals("{\"prompt\":\"hi\"}", attrs.get(MlflowKeys.Span.INPUTS).asText());
        assertEquals("3", attrs.get("n").asText());
        assertEquals("\"tr-" + TRACE + "\"", attrs.get(MlflowKeys.Span.TRACE_REQUEST_ID).asText());
        JsonNode childAttrs = encoded().get("spans").get(1).get("attributes");
        assertEquals("\"text\"", childAttrs.get(MlflowKeys.Span.OUTPUTS).asText());
        assertEquals("\"tr-" + TRACE + "\"", childAttrs.get(MlflowKeys.Span.TRACE_REQUEST_ID).asText());
    }

    @Test
    void statusTimesAndEvents() {
        JsonNode child = encoded().get("spans").get(1);
        assertEquals("STATUS_CODE_ERROR", child.get("status").get("code").asText());
        assertEquals("Boom: x", child.get("status").get("message").asText());
        assertEquals("STATUS_CODE_OK", encoded().get("spans").get(0).get("status").get("code").asText());
        assertEquals(11, child.get("start_time_unix_nano").asLong());
        assertEquals(19, child.get("end_time_unix_nano").asLong());
        JsonNode event = child.get("events").get(0);
        assertEquals("exception", event.get("name").asText());
        assertEquals(15, event.get("time_unix_nano").asLong());
        assertEquals("Boom", event.get("attributes").get("exception.type").asText());
        assertEquals(2, event.get("attributes").get("n").asInt(), "event attributes stay raw");
        assertEquals("[1,2]", event.get("attributes").get("data").asText(), "containers become JSON text");
    }
}
