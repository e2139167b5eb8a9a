package dev.agentfn.evaluation;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
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
import io.restassured.path.json.JsonPath;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** openai:/ judges through an OpenAI-compatible chat-completions endpoint (the fake), next to anthropic:/ judges. */
@QuarkusTest
class OpenAiJudgeTest {
    static final String YES = EvaluationToMlflowTest.YES;
    static final String NO = EvaluationToMlflowTest.NO;

    FakeAnthropicServer anthropic = FakeAnthropicResource.fake();
    FakeOpenAiServer openai = FakeOpenAiResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());

    @BeforeEach
    void reset() {
        anthropic.reset();
        openai.reset();
    }

    static String body(String rows) {
        return """
                {"dataset":{"rows":[%s]},"scorers":[
                  {"type":"judge","name":"relevance","instructions":"Is {{ outputs }} relevant to {{ inputs }}?"},
                  {"type":"judge","name":"correct","model":"openai:/gpt-4o-mini","result_type":"yes/no",
                   "instructions":"Is {{ outputs }} a correct answer to {{ inputs }}?"}]}
                """.formatted(rows);
    }

    @Test
    void anthropicAndOpenAiJudgesScoreTheSameEvaluation() throws Exception {
        anthropic.enqueue(FakeTurn.text("Paris."), FakeTurn.text(YES));
        openai.enqueue(FakeOpenAiServer.text("```json\n" + NO + "\n```"));
        JsonPath started = given().contentType("application/json")
                .body(body("{\"inputs\":{\"prompt\":\"Capital of France?\"}}"))
                .when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        String runId = started.getString("run_id");
        JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());

        // The exact request OpenAI's API would have received.
        assertEquals(1, openai.requests().size());
        FakeOpenAiServer.Recorded sent = openai.requests().get(0);
        assertEquals("/v1/chat/completions", sent.path());
        assertEquals("Bearer " + FakeOpenAiResource.TEST_API_KEY, sent.headers().get("authorization"));
        assertEquals("application/json", sent.headers().get("content-type"));
        JsonNode req = sent.json();
        assertEquals("gpt-4o-mini", req.get("model").asText());
        assertEquals(1024, req.get("max_completion_tokens").asInt());
        assertEquals(2, req.get("messages").size(), req.toString());
        assertEquals("system", req.at("/messages/0/role").asText());
        String system = req.at("/messages/0/content").asText();
        assertTrue(system.contains("Your task: Is {{ outputs }} a correct answer to {{ inputs }}?."), system);
        assertTrue(system.endsWith("- result (Literal['yes', 'no']): The evaluation rating/result\n"
                + "- rationale (str): Detailed explanation for the evaluation"), system);
        assertEquals("user", req.at("/messages/1/role").asText());
        assertEquals("outputs: \"Paris.\"\ninputs: {\n  \"prompt\": \"Capital of France?\"\n}",
                req.at("/messages/1/content").asText());
        assertEquals("[\"yes\",\"no\"]", req.at("/response_format/json_schema/schema/properties/result/enum").toString());

        JsonNode mlflow = EvaluationToMlflowTest.readBack(python, runId);
        assertEquals("FINISHED", mlflow.get("status").asText());
        JsonNode trace = mlflow.at("/traces/0");
        assertEquals(runId, trace.at("/metadata/mlflow.sourceRun").asText());
        Map<String, JsonNode> byName = new java.util.HashMap<>();
        trace.get("assessments").forEach(a -> byName.put(a.get("name").asText(), a));
        JsonNode correct = byName.get("correct");
        assertEquals("LLM_JUDGE", correct.get("source_type").asText());
        assertEquals("openai:/gpt-4o-mini", correct.get("source_id").asText());
        assertEquals("no", correct.get("value").asText());
        assertEquals("judged no", correct.get("rationale").asText());
        assertEquals(trace.get("root_span_id").asText(), correct.get("span_id").asText());
        assertEquals("anthropic:/claude-sonnet-5-5", byName.get("relevance").get("source_id").asText());
        assertEquals("yes", byName.get("relevance").get("value").asText());
        assertEquals(0.0, mlflow.at("/metrics/correct~1mean").asDouble());
        assertEquals(1.0, mlflow.at("/metrics/relevance~1mean").asDouble());

        // The judge's tokens and cost (gpt-4o-mini at MLflow's catalog price: 42 × 0.15 + 7 × 0.6 per million).
        assertEquals("42", correct.at("/metadata/mlflow.assessment.judgeInputTokens").asText(), correct.toString());
        assertEquals("7", correct.at("/metadata/mlflow.assessment.judgeOutputTokens").asText());
        assertEquals(42 * (0.15 / 1e6) + 7 * (0.6 / 1e6),
                Double.parseDouble(correct.at("/metadata/mlflow.assessment.judgeCost").asText()), 0);
        assertTrue(correct.at("/metadata/mlflow.assessment.scorerTraceId").isMissingNode(), "untraced by default");
    }

    @Test
    void anEndpointWithoutStructuredOutputIsAskedAgainWithoutIt() throws Exception {
        anthropic.enqueue(FakeTurn.text("Paris."), FakeTurn.text(YES));
        openai.enqueue(FakeOpenAiServer.error(400, "invalid_request_error", null, "Invalid parameter: 'response_format' "
                + "of type 'json_schema' is not supported with this model.", Map.of()), FakeOpenAiServer.text(NO));
        JsonPath started = given().contentType("application/json")
                .body(body("{\"inputs\":{\"prompt\":\"Capital of France?\"}}"))
                .when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());
        assertEquals(2, openai.requests().size());
        assertTrue(openai.requests().get(0).json().has("response_format"));
        JsonNode second = openai.requests().get(1).json();
        assertFalse(second.has("response_format"), second.toString());
        assertEquals(openai.requests().get(0).json().get("messages"), second.get("messages"), "the same question");
        assertEquals(0.0, done.getDouble("metrics.'correct/mean'"), done.prettify());
    }

    @Test
    void malformedOpenAiOutputIsRetriedOnceThenAnAssessmentError() throws Exception {
        anthropic.enqueue(FakeTurn.text("Paris."), FakeTurn.text(YES));
        openai.enqueue(FakeOpenAiServer.text("Sure, yes."), FakeOpenAiServer.text("yes!"));
        JsonPath started = given().contentType("application/json")
                .body(body("{\"inputs\":{\"prompt\":\"Capital of France?\"}}"))
                .when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), "malformed answers do not fail the run: " + done.prettify());
        assertEquals(2, openai.requests().size(), "asked once more, then given up");
        assertEquals(openai.requests().get(0).body(), openai.requests().get(1).body(), "the same question again");
        JsonNode mlflow = EvaluationToMlflowTest.readBack(python, started.getString("run_id"));
        JsonNode correct = null;
        for (JsonNode a : mlflow.at("/traces/0/assessments")) {
            if (a.get("name").asText().equals("correct")) {
                correct = a;
            }
        }
        assertTrue(correct.get("value").isNull(), correct.toString());
        assertTrue(correct.get("error").asText().contains("did not answer JSON"), correct.toString());
        assertEquals("openai:/gpt-4o-mini", correct.get("source_id").asText());
    }

    @Test
    void rateLimitIsRetriedAfterTheServersDelay() throws Exception {
        anthropic.enqueue(FakeTurn.text("Paris."), FakeTurn.text(YES));
        openai.enqueue(FakeOpenAiServer.error(429, "requests", "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini",
                Map.of("retry-after-ms", "200")), FakeOpenAiServer.text(YES));
        JsonPath started = given().contentType("application/json")
                .body(body("{\"inputs\":{\"prompt\":\"Capital of France?\"}}"))
                .when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());
        assertEquals(2, openai.requests().size());
        assertEquals("1", openai.requests().get(1).headers().get("x-stainless-retry-count"));
        assertEquals(1.0, done.getDouble("metrics.'correct/mean'"), done.prettify());
    }

    @Test
    void unauthorizedOpenAiJudgeIsAnAssessmentErrorAndTheRunFailsWithTheReason() throws Exception {
        anthropic.enqueue(FakeTurn.text("Paris."), FakeTurn.text(YES));
        openai.enqueue(FakeOpenAiServer.error(401, "invalid_request_error", "invalid_api_key",
                "Incorrect API key provided: " + FakeOpenAiResource.TEST_API_KEY + ". You can find your API key at "
                        + "https://platform.openai.com/account/api-keys.", Map.of()));
        JsonPath started = given().contentType("application/json")
                .body(body("{\"inputs\":{\"prompt\":\"Capital of France?\"}}"))
                .when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
        assertEquals("FAILED", done.getString("status"), done.prettify());
        assertEquals(1, openai.requests().size(), "a 401 is not retried");
        String failure = done.getString("failure");
        assertTrue(failure.contains("judge correct (openai:/gpt-4o-mini)") && failure.contains("401"), failure);
        assertTrue(failure.contains("invalid_api_key"), failure);
        assertFalse(done.prettify().contains(FakeOpenAiResource.TEST_API_KEY), "the key is cut out of the error");
        JsonNode mlflow = EvaluationToMlflowTest.readBack(python, started.getString("run_id"));
        assertEquals("FAILED", mlflow.get("status").asText());
        String assessments = mlflow.at("/traces/0/assessments").toString();
        assertTrue(assessments.contains("judge call failed: HTTP 401"), assessments);
        assertFalse(mlflow.toString().contains(FakeOpenAiResource.TEST_API_KEY));
    }

    @Test
    void unknownProviderIsAProblem() {
        given().contentType("application/json").body("""
                {"dataset":{"rows":[{"inputs":{"prompt":"a"}}]},
                 "scorers":[{"type":"judge","name":"j","model":"gemini:/x","instructions":"{{ outputs }}"}]}
                """).when().post("/v1/evaluations").then().statusCode(400)
                .body("detail", containsString("model must be anthropic:/<model> or openai:/<model>"));
    }

    @Test
    void sourceRunHeaderIsRefusedWithoutApiKeys() {
        given().contentType("application/json").header("X-Agentfn-Source-Run", "0123456789abcdef0123456789abcdef")
                .body("{\"prompt\":\"hi\"}").when().post("/v1/invocations").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("only on authenticated requests"));
        assertEquals(0, anthropic.messageRequests().size());
    }
}
