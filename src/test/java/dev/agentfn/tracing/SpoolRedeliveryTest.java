package dev.agentfn.tracing;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import dev.agentfn.testing.MlflowServerResource;
import io.quarkus.test.junit.QuarkusTest;
import dev.agentfn.tracing.spool.SpoolDrainer;
import dev.agentfn.tracing.spool.TraceSpool;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** MLflow down: answers still succeed, traces are spooled, and arrive exactly once when it is back. */
@QuarkusTest
class SpoolRedeliveryTest {
    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    @Inject
    SpoolDrainer drainer;
    @Inject
    TraceSpool spool;

    @Test
    void spooledTracesArriveExactlyOnceAfterMlflowComesBack() throws Exception {
        MlflowServer mlflow = MlflowServerResource.server();
        String session = "spool-" + UUID.randomUUID();
        fake.reset();
        mlflow.stop();
        List<String> spooled = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                fake.enqueue(FakeTurn.text("answer " + i));
                spooled.add(given().contentType("application/json")
                        .body("{\"prompt\":\"q" + i + "\",\"session_id\":\"" + session + "\"}")
                        .when().post("/v1/invocations").then().statusCode(200)
                        .body("output", equalTo("answer " + i)).body("trace.export", equalTo("spooled"))
                        .extract().path("trace.id"));
            }
        } finally {
            mlflow.start();
        }
        // a freshly restarted server may answer its first request after the export timeout: spooled is fine then
        fake.enqueue(FakeTurn.text("back"));
        given().contentType("application/json").body("{\"prompt\":\"again\",\"session_id\":\"" + session + "\"}")
                .when().post("/v1/invocations").then().statusCode(200)
                .body("trace.export", anyOf(equalTo("delivered"), equalTo("spooled")));

        MlflowPython python = new MlflowPython(mlflow);
        JsonNode counts = null;
        for (int attempt = 0; attempt < 60; attempt++) {
            drainer.drainOnce();
            counts = python.json("""
                    import mlflow, json
                    ts = mlflow.search_traces(locations=["%s"], return_type="list",
                        filter_string="metadata.`mlflow.trace.session` = '%s'")
                    ids = [t.info.trace_id for t in ts]
                    spans = {t.info.trace_id: len(mlflow.get_trace(t.info.trace_id).data.spans) for t in ts}
                    print(json.dumps({"ids": ids, "spans": spans}))
                    """.formatted(MlflowServerResource.experimentId(), session));
            if (counts.get("ids").size() >= 4) {
                break;
            }
            Thread.sleep(500);
        }
        assertEquals(4, counts.get("ids").size(), "every trace exactly once: " + counts);
        assertEquals(0, spool.size(), "the spool is empty once MLflow confirmed everything");
        for (String id : spooled) {
            assertEquals(2, counts.at("/spans/" + id).asInt(), "spans not duplicated for " + id);
        }
    }
}
