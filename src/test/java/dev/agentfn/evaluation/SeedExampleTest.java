package dev.agentfn.evaluation;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.FakeOpenAiResource;
import dev.agentfn.testing.FakeOpenAiServer;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue #18: MLflow's own example, copied as it is. The rows are {@code {"inputs": {"query": …}}} and the judge is
 * {@code make_judge(name="relevance", instructions="…Return either 'pass' or 'fail'.", model="openai:/gpt-4o")}
 * with no result type. agentfn must run it as {@code mlflow.genai.evaluate} does: the query is the prompt, the judge
 * answers pass/fail in its own words, and the judge's cost is on the assessment.
 */
@QuarkusTest
public class SeedExampleTest {
    /** The seed's rows and judge, verbatim (JSON for the Python literals). */
    public static final String ROWS = """
            [{"inputs": {"query": "What is machine learning?"}},
             {"inputs": {"query": "What is MLflow?"}}]""";
    public static final String JUDGE = """
            {"type": "judge", "name": "relevance",
             "instructions": "Evaluate if the response in {{ outputs }} is relevant to the question in {{ inputs }}. Return either 'pass' or 'fail'.",
             "model": "openai:/gpt-4o"}""";
    /** What make_judge 3.17.2 sends as the system message for this judge (printed by MLflow's own code). */
    public static final String SYSTEM = """
            You are an expert judge tasked with evaluating the performance of an AI
            agent on a particular query. You will be given instructions that describe the criteria and
            methodology for evaluating the agent's performance on the query.

            Your task: Evaluate if the response in {{ outputs }} is relevant to the question in {{ inputs }}. \
            Return either 'pass' or 'fail'..

            You *must* format your evaluation rating as a JSON object with the following fields (no markdown). \
            Pay close attention to the field type of the evaluation rating (string, boolean, numeric, etc.), and \
            ensure that it conforms to the instructions.

            - result (str): The evaluation rating/result
            - rationale (str): Detailed explanation for the evaluation""";
    /** make_judge's structured output for a str result (pydantic's schema of its ResponseFormat model, strict). */
    public static final String RESPONSE_FORMAT = """
            {"type": "json_schema", "json_schema": {"name": "ResponseFormat", "schema": {"properties": {"result": \
            {"description": "The evaluation rating/result", "title": "Result", "type": "string"}, "rationale": \
            {"description": "Detailed explanation for the evaluation", "title": "Rationale", "type": "string"}}, \
            "required": ["result", "rationale"], "title": "ResponseFormat", "type": "object", \
            "additionalProperties": false}, "strict": true}}""";
    public static final String PASS = "{\"result\": \"pass\", \"rationale\": \"It answers the question.\"}";
    public static final String FAIL = "{\"result\": \"fail\", \"rationale\": \"It does not.\"}";
    /** 42 prompt and 7 completion tokens (the fake's usage) at gpt-4o's MLflow catalog price, as Python's str(). */
    public static final String JUDGE_COST = "0.00017500000000000003";
    static final ObjectMapper JSON = new ObjectMapper();

    FakeAnthropicServer anthropic = FakeAnthropicResource.fake();
    FakeOpenAiServer openai = FakeOpenAiResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());

    @BeforeEach
    void reset() {
        anthropic.reset();
        openai.reset();
    }

    @Test
    void theSeedsDatasetAndJudgeRunAsWrittenThroughTheApi() throws Exception {
        anthropic.enqueue(FakeTurn.text("An answer."), FakeTurn.text("An answer."));
        openai.enqueue(FakeOpenAiServer.text(PASS), FakeOpenAiServer.text(FAIL));
        JsonPath started = given().contentType("application/json")
                .body("{\"name\": \"seed\", \"dataset\": {\"rows\": " + ROWS + "}, \"scorers\": [" + JUDGE + "]}")
                .when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());

        // The agent got the query as its prompt.
        List<String> prompts = new ArrayList<>();
        anthropic.messageRequests().forEach(r -> {
            JsonNode content = r.json().at("/messages/0/content");
            prompts.add(content.isArray() ? content.at("/0/text").asText() : content.asText());
        });
        assertEquals(List.of("What is MLflow?", "What is machine learning?"), prompts.stream().sorted().toList());

        // The judge request is make_judge's: instructions as the task, values delimited, structured output.
        assertEquals(2, openai.requests().size());
        List<String> users = new ArrayList<>();
        for (FakeOpenAiServer.Recorded r : openai.requests()) {
            JsonNode req = r.json();
            assertEquals("gpt-4o", req.get("model").asText());
            assertEquals(SYSTEM, req.at("/messages/0/content").asText());
            assertEquals("system", req.at("/messages/0/role").asText());
            assertEquals("user", req.at("/messages/1/role").asText());
            assertEquals(JSON.readTree(RESPONSE_FORMAT), req.get("response_format"));
            assertEquals(1024, req.get("max_completion_tokens").asInt());
            assertEquals(4, req.size(), "nothing else: " + req);
            users.add(req.at("/messages/1/content").asText());
        }
        assertEquals(List.of(
                "outputs: \"An answer.\"\ninputs: {\n  \"query\": \"What is MLflow?\"\n}",
                "outputs: \"An answer.\"\ninputs: {\n  \"query\": \"What is machine learning?\"\n}"),
                users.stream().sorted().toList(), "{{ inputs }} is the row's inputs, not the derived prompt");

        JsonNode mlflow = EvaluationToMlflowTest.readBack(python, started.getString("run_id"));
        assertSeedRun(mlflow, "agentfn POST /v1/evaluations", "JOB");
        assertEquals("dataset", mlflow.at("/inputs/0/name").asText(), "as evaluate names a list of rows");
        assertEquals("code", mlflow.at("/inputs/0/source_type").asText());
        assertEquals(0.5, done.getDouble("metrics.'relevance/mean'"), "agentfn's own mean over pass/fail");
    }

    /** What MLflow holds for the seed's run, read with MLflow's Python client. */
    public static void assertSeedRun(JsonNode mlflow, String sourceName, String sourceType) {
        assertEquals("FINISHED", mlflow.get("status").asText(), mlflow.toString());
        assertEquals(System.getProperty("user.name"), mlflow.at("/tags/mlflow.user").asText(), "Created by");
        assertEquals(sourceName, mlflow.at("/tags/mlflow.source.name").asText());
        assertEquals(sourceType, mlflow.at("/tags/mlflow.source.type").asText());
        assertTrue(mlflow.at("/tags/mlflow.genaiEvaluate.scorersDigest").asText().matches(
                "\\{\"digest\": \"sha256:[0-9a-f]{64}\", \"hashed\": 1, \"total\": 1}"), mlflow.at("/tags").toString());
        assertEquals(2, mlflow.get("traces").size(), mlflow.toString());
        List<String> values = new ArrayList<>();
        for (JsonNode t : mlflow.get("traces")) {
            assertEquals(1, t.get("assessments").size(), t.toString());
            JsonNode a = t.at("/assessments/0");
            assertEquals("relevance", a.get("name").asText());
            assertTrue(a.get("error").isNull(), a.toString());
            assertEquals("LLM_JUDGE", a.get("source_type").asText());
            assertEquals("openai:/gpt-4o", a.get("source_id").asText());
            values.add(a.get("value").asText());
            JsonNode meta = a.get("metadata");
            assertEquals(JUDGE_COST, meta.path("mlflow.assessment.judgeCost").asText(), a.toString());
            assertEquals("42", meta.path("mlflow.assessment.judgeInputTokens").asText());
            assertEquals("7", meta.path("mlflow.assessment.judgeOutputTokens").asText());
            assertTrue(meta.path("guideline").asText().startsWith("Evaluate if the response"), a.toString());
            assertTrue(meta.path("mlflow.assessment.scorerDigest").asText().startsWith("sha256:"), a.toString());
            assertFalse(meta.has("mlflow.assessment.scorerTraceId"), "judges are not traced by default: " + a);
        }
        assertEquals(List.of("fail", "pass"), values.stream().sorted().toList(), "the judge's words, as MLflow stores them");
    }
}
