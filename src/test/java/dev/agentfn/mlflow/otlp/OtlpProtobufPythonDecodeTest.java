package dev.agentfn.mlflow.otlp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanEvent;
import dev.agentfn.mlflow.entities.SpanStatus;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The official Python protobuf classes parse our hand-written bytes into the intended message. */
class OtlpProtobufPythonDecodeTest {

    @Test
    void pythonOpenTelemetryProtoParsesTheRequest() throws Exception {
        SpanData span = new SpanData(OtlpProtobufEncoderTest.TRACE, OtlpProtobufEncoderTest.SPAN,
                OtlpProtobufEncoderTest.PARENT, "llm ü", 1_700_000_000_000_000_001L, 1_700_000_000_500_000_000L,
                SpanStatus.error("bad"), Map.of("i", 42, "d", 0.25, "b", false, "m", Map.of("k", List.of(1, "x")),
                        "s", "text"),
                List.of(new SpanEvent("exception", 1_700_000_000_400_000_000L, Map.of("exception.type", "E"))));
        byte[] bytes = new OtlpProtobufEncoder().encode(List.of(span), Map.of("service.name", "agentfn"), "agentfn");
        Path file = Files.createTempFile("otlp", ".bin");
        Files.write(file, bytes);
        JsonNode json = new MlflowPython(MlflowServer.ensureVenv(), URI.create("http://127.0.0.1:1")).json("""
                import json
                from google.protobuf.json_format import MessageToDict
                from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
                r = ExportTraceServiceRequest()
                r.ParseFromString(open("%s", "rb").read())
                print(json.dumps(MessageToDict(r)))
                """.formatted(file));
        Files.delete(file);
        JsonNode rs = json.get("resourceSpans").get(0);
        assertEquals("agentfn", rs.get("resource").get("attributes").get(0).get("value").get("stringValue").asText());
        JsonNode scope = rs.get("scopeSpans").get(0);
        assertEquals("agentfn", scope.get("scope").get("name").asText());
        JsonNode s = scope.get("spans").get(0);
        assertEquals(b64(OtlpProtobufEncoderTest.TRACE), s.get("traceId").asText());
        assertEquals(b64(OtlpProtobufEncoderTest.SPAN), s.get("spanId").asText());
        assertEquals(b64(OtlpProtobufEncoderTest.PARENT), s.get("parentSpanId").asText());
        assertEquals("llm ü", s.get("name").asText());
        assertEquals("SPAN_KIND_INTERNAL", s.get("kind").asText());
        assertEquals("1700000000000000001", s.get("startTimeUnixNano").asText());
        assertEquals("1700000000500000000", s.get("endTimeUnixNano").asText());
        assertEquals("STATUS_CODE_ERROR", s.get("status").get("code").asText());
        assertEquals("bad", s.get("status").get("message").asText());
        Map<String, JsonNode> attrs = new HashMap<>();
        s.get("attributes").forEach(a -> attrs.put(a.get("key").asText(), a.get("value")));
        assertEquals("42", attrs.get("i").get("intValue").asText());
        assertEquals(0.25, attrs.get("d").get("doubleValue").asDouble());
        assertEquals(false, attrs.get("b").get("boolValue").asBoolean());
        assertEquals("text", attrs.get("s").get("stringValue").asText());
        JsonNode kv = attrs.get("m").get("kvlistValue").get("values").get(0);
        assertEquals("k", kv.get("key").asText());
        assertEquals("x", kv.get("value").get("arrayValue").get("values").get(1).get("stringValue").asText());
        JsonNode event = s.get("events").get(0);
        assertEquals("exception", event.get("name").asText());
        assertEquals("1700000000400000000", event.get("timeUnixNano").asText());
    }

    private static String b64(String hex) {
        return Base64.getEncoder().encodeToString(HexFormat.of().parseHex(hex));
    }
}
