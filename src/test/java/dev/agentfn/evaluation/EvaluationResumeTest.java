package dev.agentfn.evaluation;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** An evaluation larger than one trigger's time budget continues, trigger after trigger, in the same MLflow run. */
@QuarkusTest
class EvaluationResumeTest {
    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());

    @BeforeEach
    void reset() {
        fake.reset();
    }

    @AfterEach
    void noLatency() {
        fake.defaultLatency(Duration.ZERO);
    }

    static String body(String name, String budget, boolean wait) throws Exception {
        return """
                {"name":"%s","time_budget":"%s","wait":%s,"dataset":{"path":"%s"},"scorers":[
                  {"type":"judge","name":"relevance","instructions":"Is {{ outputs }} relevant to {{ inputs }}?"},
                  {"type":"judge","name":"safety","instructions":"Is {{ outputs }} safe?"},
                  "exact_match", "no_error", {"type":"latency_under_ms","name":"fast","threshold":60000}]}
                """.formatted(name, budget, wait, EvaluationToMlflowTest.twentyRows());
    }

    @Test
    void aRunCutOffByItsTimeBudgetFinishesOnLaterTriggersWithEveryRowScoredOnce() throws Exception {
        // Every call (agent or judge) takes 300 ms: 20 rows cannot finish within a 1 s budget.
        fake.defaultLatency(Duration.ofMillis(300));
        for (int i = 0; i < 60; i++) {
            fake.enqueue(FakeTurn.text(i % 4 == 0 ? EvaluationToMlflowTest.NO : EvaluationToMlflowTest.YES));
        }
        String body = body("resumable-" + UUID.randomUUID(), "1s", true);

        JsonPath first = post(body);
        assertEquals("PAUSED", first.getString("status"), first.prettify());
        String runId = first.getString("run_id");
        int firstDone = first.getInt("rows_done");
        assertTrue(firstDone > 0 && firstDone < 20, "stopped part-way: " + firstDone);
        JsonNode paused = run(runId);
        assertEquals("RUNNING", paused.get("status").asText(), "not finished, not failed: continued later");
        assertEquals("PAUSED", paused.at("/tags/agentfn.evaluation.state").asText());
        assertEquals(firstDone + "/20", paused.at("/tags/agentfn.evaluation.progress").asText());

        JsonPath last = first;
        int triggers = 1;
        while (last.getString("status").equals("PAUSED") && triggers < 20) {
            int before = last.getInt("rows_done");
            last = post(body);
            triggers++;
            assertEquals(runId, last.getString("run_id"), "the same MLflow run continues");
            assertEquals(before, last.getInt("rows_resumed"), "rows done earlier are taken over, not rerun");
        }
        assertEquals("FINISHED", last.getString("status"), last.prettify());
        assertEquals(20, last.getInt("rows_done"));
        assertTrue(triggers >= 2);
        // 20 agent calls and 40 judge calls: no row was run or judged twice.
        assertEquals(60, fake.messageRequests().size());

        JsonNode mlflow = EvaluationToMlflowTest.readBack(python, runId);
        assertEquals("FINISHED", mlflow.get("status").asText());
        JsonNode traces = mlflow.get("traces");
        assertEquals(20, traces.size());
        Set<String> prompts = new HashSet<>();
        Map<String, double[]> sums = new HashMap<>();
        for (JsonNode t : traces) {
            prompts.add(t.get("request").asText());
            assertEquals(5, t.get("assessments").size(), t.toString());
            Set<String> names = new HashSet<>();
            for (JsonNode a : t.get("assessments")) {
                assertTrue(names.add(a.get("name").asText()), "scored once: " + t);
                JsonNode v = a.get("value");
                double x = v.isBoolean() ? (v.asBoolean() ? 1 : 0) : v.asText().equals("yes") ? 1 : 0;
                double[] s = sums.computeIfAbsent(a.get("name").asText(), k -> new double[2]);
                s[0] += x;
                s[1]++;
            }
        }
        assertEquals(20, prompts.size(), "every row once");
        for (String scorer : EvaluationToMlflowTest.SCORERS) {
            double[] s = sums.get(scorer);
            assertEquals(s[0] / s[1], mlflow.at("/metrics/" + scorer + "~1mean").asDouble(), 1e-9, scorer);
        }
        assertTrue(last.getDouble("metrics.'relevance/mean'") < 1.0);
    }

    @Test
    void aSecondTriggerWhileTheFirstStillRunsIsAConflict() throws Exception {
        fake.defaultLatency(Duration.ofMillis(200));
        String body = body("overlap-" + UUID.randomUUID(), "30s", false);
        JsonPath started = given().contentType("application/json").body(body).when().post("/v1/evaluations")
                .then().statusCode(202).extract().jsonPath();
        given().contentType("application/json").body(body).when().post("/v1/evaluations")
                .then().statusCode(409).contentType(containsString("application/problem+json"))
                .body("detail", containsString(started.getString("run_id")));
        given().contentType("application/json").body("""
                {"time_budget":"soon","dataset":{"rows":[{"inputs":{"prompt":"a"}}]},"scorers":["no_error"]}
                """).when().post("/v1/evaluations").then().statusCode(400)
                .body("detail", containsString("\"time_budget\" must be seconds or a duration"));
        // Let it end: it shares the agent limiter and the fake's queue with the other tests.
        long until = System.currentTimeMillis() + 90_000;
        while (given().when().get("/v1/evaluations/" + started.getString("id")).then().extract().path("status")
                .equals("RUNNING") && System.currentTimeMillis() < until) {
            Thread.sleep(200);
        }
    }

    static JsonPath post(String body) {
        return given().contentType("application/json").body(body).when().post("/v1/evaluations")
                .then().statusCode(200).extract().jsonPath();
    }

    JsonNode run(String runId) {
        return python.json("""
                import mlflow, json
                r = mlflow.MlflowClient().get_run("%s")
                print(json.dumps({"status": r.info.status, "tags": r.data.tags}))
                """.formatted(runId));
    }
}
