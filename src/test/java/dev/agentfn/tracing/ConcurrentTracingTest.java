package dev.agentfn.tracing;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import dev.agentfn.tracing.spool.SpoolDrainer;
import dev.agentfn.tracing.spool.TraceSpool;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import io.restassured.path.json.JsonPath;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Many invocations at once share OTLP requests to MLflow (group commit); each trace must still read back
 * through MLflow's Python client exactly as a lone invocation's does.
 */
@QuarkusTest
class ConcurrentTracingTest {
    static final int CONCURRENT = 24;
    /** Metadata that differs from one invocation to the next by nature (ids, times). */
    static final List<String> PER_INVOCATION = List.of("mlflow.trace.sizeBytes", "mlflow.trace.sizeStats",
            "agentfn.request_id", "agentfn.invocation_id");
    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());
    @Inject
    SpoolDrainer drainer;
    @Inject
    TraceSpool spool;

    JsonPath invoke(String prompt) {
        return given().contentType("application/json")
                .body("{\"prompt\":\"" + prompt + "\",\"session_id\":\"s-concurrent\",\"user\":\"ada\",\"metadata\":{\"team\":\"geo\"}}")
                .when().post("/v1/invocations").then().statusCode(200).extract().jsonPath();
    }

    /** Each trace's previews, metadata, tags and spans' names as MLflow's client returns them. */
    JsonNode read(List<String> traceIds) {
        return python.json("""
                import mlflow, json
                out = []
                for tid in %s:
                    t = mlflow.get_trace(tid)
                    if t is None:
                        out.append(None)
                        continue
                    out.append({"state": t.info.state.value, "request_preview": t.info.request_preview,
                                "response_preview": t.info.response_preview, "metadata": t.info.trace_metadata,
                                "tags": t.info.tags, "spans": sorted(s.name for s in t.data.spans)})
                print(json.dumps(out))
                """.formatted(pythonList(traceIds)));
    }

    boolean spooled(List<String> traceIds) {
        return spool.oldest(10_000).stream().anyMatch(s -> traceIds.contains(s.trace().info().traceId()));
    }

    static boolean missing(JsonNode traces) {
        for (JsonNode t : traces) {
            if (t.isNull()) {
                return true;
            }
        }
        return false;
    }

    @Test
    void concurrentInvocationsReadBackLikeALoneOne() throws Exception {
        fake.reset();
        for (int i = 0; i <= CONCURRENT; i++) {
            fake.enqueue(FakeTurn.text("Paris.").withUsage(12, 7, 3, 2));
        }
        JsonPath lone = invoke("Capital of France? lone");
        assertEquals("delivered", lone.getString("trace.export"));
        JsonNode loneBack = read(List.of(lone.getString("trace.id"))).get(0);

        ExecutorService callers = Executors.newFixedThreadPool(CONCURRENT);
        List<Future<JsonPath>> answers = new ArrayList<>();
        try {
            for (int i = 0; i < CONCURRENT; i++) {
                String prompt = "Capital of France? " + i;
                answers.add(callers.submit(() -> invoke(prompt)));
            }
            List<String> ids = new ArrayList<>();
            for (Future<JsonPath> a : answers) {
                JsonPath answer = a.get(120, TimeUnit.SECONDS);
                // confirmed before the answer, or (MLflow slower than the export timeout) spooled, as one alone is
                assertTrue(List.of("delivered", "spooled").contains(answer.getString("trace.export")), answer.prettify());
                ids.add(answer.getString("trace.id"));
            }
            JsonNode back = read(ids);
            // A trace spooled after the export timeout is whole in MLflow only once an export of it is confirmed (its
            // own late one, or the drainer's), which takes it out of the spool: read between a write's OTLP spans and
            // its StartTraceV3, it shows the preview MLflow derives from the spans.
            for (int i = 0; i < 60 && (missing(back) || spooled(ids)); i++) {
                drainer.drainOnce(); // the test profile's drainer waits an hour between passes
                back = read(ids);
            }
            for (int i = 0; i < CONCURRENT; i++) {
                JsonNode t = back.get(i);
                assertEquals("OK", t.get("state").asText());
                assertEquals("Capital of France? " + i, t.get("request_preview").asText());
                assertEquals(loneBack.get("response_preview"), t.get("response_preview"));
                assertEquals(loneBack.get("spans"), t.get("spans"));
                assertEquals(comparable(loneBack.get("metadata")), comparable(t.get("metadata")),
                        "same metadata as the lone invocation's, token usage included");
                assertEquals(comparable(loneBack.get("tags")), comparable(t.get("tags")));
            }
        } finally {
            callers.shutdownNow();
        }
    }

    /** The map without values that name the one trace (ids, sizes, artifact location). */
    static Map<String, String> comparable(JsonNode map) {
        Map<String, String> out = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), PER_INVOCATION.contains(e.getKey()) ? "(per invocation)" : e.getValue().asText());
        }
        out.remove("mlflow.artifactLocation");
        return out;
    }

    static String pythonList(List<String> ids) {
        StringBuilder sb = new StringBuilder("[");
        ids.forEach(id -> sb.append('"').append(id).append("\","));
        return sb.append(']').toString();
    }
}
