package dev.agentfn.tracing;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.standin.ToolCall;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A server without OTLP ingest (file store): the same invocation gives the same trace through traces.json. */
@QuarkusTest
@TestProfile(FallbackPathTest.FileStore.class)
class FallbackPathTest {
    static MlflowServer fileStore;
    static String experimentId;

    public static class FileStore implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            synchronized (FallbackPathTest.class) {
                if (fileStore == null) {
                    fileStore = MlflowServer.startFileStore();
                    experimentId = fileStore.createExperiment("fallback");
                }
            }
            return Map.of("agentfn.mlflow.tracking-uri", fileStore.uri().toString(),
                    "agentfn.mlflow.experiment-id", experimentId);
        }
    }

    @Test
    void toolLoopTraceArrivesThroughTracesJson() {
        FakeAnthropicResource.fake().reset();
        FakeAnthropicResource.fake().enqueue(
                FakeTurn.toolUse(null, new ToolCall("toolu_f", "clock", Map.of())),
                FakeTurn.text("Noon.").withUsage(10, 4, 0, 0));
        String traceId = given().contentType("application/json")
                .body("{\"prompt\":\"Time?\",\"session_id\":\"fallback-session\"}")
                .when().post("/v1/invocations").then().statusCode(200).body("trace.export", equalTo("delivered"))
                .extract().path("trace.id");
        JsonNode t = new MlflowPython(fileStore).json("""
                import mlflow, json
                t = mlflow.get_trace("%s")
                print(json.dumps({"state": str(t.info.state), "session": t.info.trace_metadata.get("mlflow.trace.session"),
                    "preview": t.info.request_preview, "usage": t.info.trace_metadata.get("mlflow.trace.tokenUsage"),
                    "spans": [[s.name, s.span_type, s.parent_id is None] for s in t.data.spans],
                    "tool_input": [s.inputs for s in t.data.spans if s.span_type == "TOOL"]}))
                """.formatted(traceId));
        assertTrue(t.get("state").asText().endsWith("OK"), t.toString());
        assertEquals("fallback-session", t.get("session").asText());
        assertEquals("Time?", t.get("preview").asText());
        assertEquals(4, t.get("spans").size(), t.toString());
        assertEquals(1, count(t, "AGENT"));
        for (JsonNode s : t.get("spans")) {
            assertEquals(s.get(1).asText().equals("AGENT"), s.get(2).asBoolean(), "only the root has no parent");
        }
        assertEquals(2, count(t, "CHAT_MODEL"));
        assertEquals(1, count(t, "TOOL"));
        assertTrue(t.get("usage").asText().contains("\"input_tokens\""));
    }

    private static long count(JsonNode t, String type) {
        long n = 0;
        for (JsonNode s : t.get("spans")) {
            n += s.get(1).asText().equals(type) ? 1 : 0;
        }
        return n;
    }
}
