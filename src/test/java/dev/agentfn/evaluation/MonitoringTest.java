package dev.agentfn.evaluation;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Online monitoring: production traces picked by filter and window are scored once, by later runs too. */
@QuarkusTest
class MonitoringTest {
    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());

    @BeforeEach
    void reset() {
        fake.reset();
    }

    String invoke(String prompt, String answer, String marker) {
        fake.enqueue(FakeTurn.text(answer));
        return given().contentType("application/json")
                .body("{\"prompt\":\"" + prompt + "\",\"metadata\":{\"monitor_test\":\"" + marker + "\"}}")
                .when().post("/v1/invocations").then().statusCode(200).extract().path("trace.id");
    }

    static String monitor(String name, String marker) {
        return """
                {"name":"%s","wait":true,"dataset":{"traces":{"filter":"tags.monitor_test = '%s'","window":"10m"}},
                 "scorers":[{"type":"judge","name":"relevance","instructions":"Is {{ outputs }} an answer to {{ inputs }}?"},
                            "no_error"]}
                """.formatted(name, marker);
    }

    @Test
    void recentTracesAreScoredOnceAndTheNextRunScoresOnlyNewOnes() {
        String marker = UUID.randomUUID().toString();
        String name = "monitor-" + marker.substring(0, 8);
        List<String> traces = List.of(invoke("Capital of France?", "Paris.", marker),
                invoke("Capital of Peru?", "Lima.", marker), invoke("Capital of Chad?", "N'Djamena.", marker));
        invoke("Unrelated", "Other.", "someone-else");
        fake.reset();
        for (int i = 0; i < 3; i++) {
            fake.enqueue(FakeTurn.text(EvaluationToMlflowTest.YES));
        }

        JsonPath first = given().contentType("application/json").body(monitor(name, marker))
                .when().post("/v1/evaluations").then().statusCode(200).extract().jsonPath();
        assertEquals("FINISHED", first.getString("status"), first.prettify());
        assertEquals(3, first.getInt("rows_total"));
        assertEquals(3, fake.messageRequests().size(), "only the judge ran: the agent's answers come from the traces");
        String judged = fake.messageRequests().stream().map(r -> r.body()).reduce("", String::concat);
        assertTrue(judged.contains("Capital of Peru?") && judged.contains("Lima."), "judge saw inputs and outputs");

        String runId = first.getString("run_id");
        JsonNode mlflow = EvaluationToMlflowTest.readBack(python, runId);
        assertEquals("genai_evaluate", mlflow.at("/tags/mlflow.runType").asText());
        assertTrue(mlflow.at("/params/dataset").asText().startsWith("traces: tags.monitor_test"));
        assertEquals(1.0, mlflow.at("/metrics/relevance~1mean").asDouble());
        Set<String> linked = new HashSet<>();
        for (JsonNode t : mlflow.get("traces")) {
            linked.add(t.get("id").asText());
            assertEquals(2, t.get("assessments").size(), t.toString());
            for (JsonNode a : t.get("assessments")) {
                assertEquals(t.get("root_span_id").asText(), a.get("span_id").asText());
                assertEquals(runId, a.at("/metadata/mlflow.assessment.sourceRunId").asText());
            }
        }
        assertEquals(Set.copyOf(traces), linked, "the sampled production traces are the run's traces");
        JsonNode tags = python.json("""
                import mlflow, json
                print(json.dumps(mlflow.get_trace("%s").info.tags))
                """.formatted(traces.get(0)));
        assertEquals(runId, tags.get("agentfn.monitor." + name).asText());

        String later = invoke("Capital of Mali?", "Bamako.", marker);
        fake.enqueue(FakeTurn.text(EvaluationToMlflowTest.NO));
        JsonPath second = given().contentType("application/json").body(monitor(name, marker))
                .when().post("/v1/evaluations").then().statusCode(200).extract().jsonPath();
        assertEquals(1, second.getInt("rows_total"), "only the trace the first run did not score");
        assertEquals(later, second.getString("results[0].trace_id"));
        assertEquals("no", second.getString("results[0].assessments[0].value"));

        JsonPath third = given().contentType("application/json").body(monitor(name, marker))
                .when().post("/v1/evaluations").then().statusCode(200).extract().jsonPath();
        assertEquals(0, third.getInt("rows_total"));
        assertNull(third.getString("run_id"), "nothing new: no empty run");
        assertNotNull(third.getString("id"));
    }

    @Test
    void badMonitorInputIsAProblem() {
        EvaluationToMlflowTest.problem("{\"dataset\":{\"traces\":{}},\"scorers\":[\"no_error\"]}",
                "a trace dataset needs a \"name\"");
        EvaluationToMlflowTest.problem("{\"name\":\"m\",\"dataset\":{\"traces\":{\"sample\":2}},\"scorers\":[\"no_error\"]}",
                "dataset.traces.sample must be in (0, 1]");
        EvaluationToMlflowTest.problem("{\"name\":\"m\",\"dataset\":{\"traces\":{\"filter\":\"nonsense ===\"}},"
                + "\"scorers\":[\"no_error\"]}", "dataset.traces.filter: MLflow rejected the filter");
        given().contentType("application/json").body("{\"name\":\"m\",\"time_budget\":5,\"dataset\":{\"traces\":{}},"
                + "\"scorers\":[\"no_error\"]}").when().post("/v1/evaluations").then().statusCode(400)
                .body("detail", containsString("does not apply to trace datasets"));
    }
}
