package dev.agentfn.evaluation;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.FakeOpenAiResource;
import dev.agentfn.testing.FakeOpenAiServer;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code agentfn.evaluation.trace-judges=true}: each judgement is a trace of its own, as MLflow's scorer tracing. */
@QuarkusTest
@TestProfile(JudgeTracesTest.TraceJudges.class)
class JudgeTracesTest {
    public static class TraceJudges implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("agentfn.evaluation.trace-judges", "true");
        }
    }

    FakeAnthropicServer anthropic = FakeAnthropicResource.fake();
    FakeOpenAiServer openai = FakeOpenAiResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());

    @Test
    void eachJudgementIsATraceLinkedFromItsAssessment() throws Exception {
        anthropic.reset();
        openai.reset();
        anthropic.enqueue(FakeTurn.text("Paris."));
        openai.enqueue(FakeOpenAiServer.text(SeedExampleTest.PASS));
        JsonPath started = given().contentType("application/json").body("""
                {"dataset":{"rows":[{"inputs":{"query":"Capital of France?"}}]},"scorers":[%s]}
                """.formatted(SeedExampleTest.JUDGE)).when().post("/v1/evaluations").then().statusCode(202)
                .extract().jsonPath();
        JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());
        JsonNode mlflow = EvaluationToMlflowTest.readBack(python, started.getString("run_id"));
        assertEquals(1, mlflow.get("traces").size(), "the judge trace is not linked to the run");
        JsonNode a = mlflow.at("/traces/0/assessments/0");
        assertEquals("pass", a.get("value").asText());
        assertEquals(SeedExampleTest.JUDGE_COST, a.at("/metadata/mlflow.assessment.judgeCost").asText());
        String judgeTrace = a.at("/metadata/mlflow.assessment.scorerTraceId").asText();
        assertFalse(judgeTrace.isBlank(), a.toString());
        JsonNode judged = python.json(EvaluationToMlflowTest.awaitTrace(judgeTrace) + """
                print(json.dumps({"tags": t.info.tags, "metadata": t.info.trace_metadata,
                                  "spans": [[s.name, s.span_type, s.parent_id is None, s.attributes] for s in t.data.spans]},
                                 default=str))
                """);
        assertEquals("relevance", judged.at("/tags/mlflow.trace.sourceScorer").asText());
        assertFalse(judged.get("metadata").has("mlflow.sourceRun"), judged.toString());
        String spans = judged.get("spans").toString();
        assertTrue(spans.contains("[\"relevance\",\"EVALUATOR\",true"), spans);
        assertTrue(spans.contains("chat.completions.create") && spans.contains("CHAT_MODEL"), spans);
        assertFalse(spans.contains(FakeOpenAiResource.TEST_API_KEY), "the key is never traced");
        // MLflow's default levels: EVALUATOR is not among its INFO types, so DEBUG (10); the model call INFO (20)
        for (JsonNode s : judged.get("spans")) {
            int expected = s.get(1).asText().equals("EVALUATOR") ? 10 : 20;
            assertEquals(expected, s.get(3).path("mlflow.spanLogLevel").asInt(), s.toString());
        }
    }
}
