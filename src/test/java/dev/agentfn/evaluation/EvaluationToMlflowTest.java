package dev.agentfn.evaluation;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.standin.ToolCall;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Evaluations end to end: rows through the agent, judges on the fake Messages API, results read back with MLflow's Python client. */
@QuarkusTest
public class EvaluationToMlflowTest {
    static final Path ROOT = Path.of("target/evaluation-datasets");
    static final String YES = "{\"result\":\"yes\",\"rationale\":\"judged yes\"}";
    static final String NO = "{\"result\":\"no\",\"rationale\":\"judged no\"}";
    static final List<String> SCORERS = List.of("relevance", "safety", "exact_match", "no_error", "fast");

    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());

    @BeforeEach
    void reset() {
        fake.reset();
    }

    static String dataset(String content) throws IOException {
        Files.createDirectories(ROOT);
        String name = "ds-" + UUID.randomUUID() + (content.startsWith("prompt") ? ".csv" : ".jsonl");
        Files.writeString(ROOT.resolve(name), content);
        return name;
    }

    static String twentyRows() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            sb.append("{\"inputs\":{\"prompt\":\"Question ").append(i).append("\"},\"expectations\":{\"expected_response\":")
                    .append(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(YES)).append("}}\n");
        }
        return dataset(sb.toString());
    }

    static String body(String path) {
        return """
                {"name":"nightly","dataset":{"path":"%s"},"scorers":[
                  {"type":"judge","name":"relevance","instructions":"Is {{ outputs }} relevant to {{ inputs }}?"},
                  {"type":"judge","name":"safety","model":"anthropic:/claude-haiku-4-5","instructions":"Is {{ outputs }} safe?"},
                  "exact_match", "no_error", {"type":"latency_under_ms","name":"fast","threshold":60000}]}
                """.formatted(path);
    }

    @Test
    void twentyRowsTwoJudgesThreeCodeScorersAreOneRunInMlflow() throws Exception {
        // Agent and judge calls share the fake's queue in whatever order they happen: every turn is a valid
        // judge answer, and as an agent answer it is just text. Values vary so the means are not trivial.
        for (int i = 0; i < 60; i++) {
            fake.enqueue(FakeTurn.text(i % 3 == 0 ? NO : YES));
        }
        String path = twentyRows();
        JsonPath started = given().contentType("application/json").body(body(path))
                .when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        String id = started.getString("id");
        String runId = started.getString("run_id");
        assertNotNull(runId);
        assertEquals(20, started.getInt("rows"));

        JsonPath done = await(id);
        assertEquals("FINISHED", done.getString("status"), done.prettify());
        assertEquals(20, done.getInt("rows_done"));
        assertEquals(0, done.getInt("rows_failed"));

        JsonNode mlflow = readBack(runId);
        assertEquals("genai_evaluate", mlflow.at("/tags/mlflow.runType").asText());
        assertEquals("FINISHED", mlflow.get("status").asText());
        assertEquals(path, mlflow.at("/params/dataset").asText());
        assertEquals("claude-sonnet-5-5", mlflow.at("/params/model").asText());
        assertEquals("messages", mlflow.at("/params/engine").asText());
        assertEquals(String.join(",", SCORERS), mlflow.at("/params/scorers").asText());
        assertEquals(path, mlflow.at("/inputs/0/name").asText(), "the dataset is the run's input");
        assertEquals("local", mlflow.at("/inputs/0/source_type").asText());
        assertEquals(20, mlflow.at("/inputs/0/num_rows").asInt());
        assertEquals(8, mlflow.at("/inputs/0/digest").asText().length());

        JsonNode traces = mlflow.get("traces");
        assertEquals(20, traces.size());
        Map<String, double[]> sums = new HashMap<>();
        for (JsonNode t : traces) {
            assertEquals(runId, t.at("/metadata/mlflow.sourceRun").asText());
            assertEquals(5, t.get("assessments").size(), t.toString());
            for (JsonNode a : t.get("assessments")) {
                assertFalse(a.get("rationale").asText().isBlank(), a.toString());
                assertTrue(a.get("error").isNull(), a.toString());
                assertEquals(runId, a.at("/metadata/mlflow.assessment.sourceRunId").asText());
                assertEquals(t.get("root_span_id").asText(), a.get("span_id").asText());
                String name = a.get("name").asText();
                boolean judge = name.equals("relevance") || name.equals("safety");
                assertEquals(judge ? "LLM_JUDGE" : "CODE", a.get("source_type").asText());
                if (name.equals("safety")) {
                    assertEquals("anthropic:/claude-haiku-4-5", a.get("source_id").asText());
                }
                // Judges are not traced unless agentfn.evaluation.trace-judges (MLflow traces scorers only when asked).
                assertTrue(a.at("/metadata/mlflow.assessment.scorerTraceId").isMissingNode(), a.toString());
                if (judge) {
                    assertTrue(a.at("/metadata/mlflow.assessment.judgeInputTokens").asInt() > 0, a.toString());
                    assertTrue(Double.parseDouble(a.at("/metadata/mlflow.assessment.judgeCost").asText()) > 0, a.toString());
                }
                JsonNode v = a.get("value");
                double x = v.isBoolean() ? (v.asBoolean() ? 1 : 0) : v.asText().equals("yes") ? 1 : 0;
                double[] s = sums.computeIfAbsent(name, k -> new double[2]);
                s[0] += x;
                s[1]++;
            }
        }
        for (String scorer : SCORERS) {
            double[] s = sums.get(scorer);
            assertEquals(20, (int) s[1]);
            assertEquals(s[0] / s[1], mlflow.at("/metrics/" + scorer + "~1mean").asDouble(), 1e-9, scorer);
        }
        assertTrue(mlflow.at("/metrics/relevance~1mean").asDouble() < 1.0, "some judges said no");
        // No judge traces flood the experiment's trace list.
        JsonNode scorerTraces = python.json("""
                import mlflow, json
                ts = mlflow.search_traces(locations=["%s"], filter_string="tags.`mlflow.trace.sourceScorer` = 'relevance'",
                                          return_type="list")
                print(json.dumps({"n": len(ts)}))
                """.formatted(MlflowServerResource.experimentId()));
        assertEquals(0, scorerTraces.get("n").asInt(), scorerTraces.toString());
        assertTrue(mlflow.get("metrics").has("agent/latency_ms/mean"));
        assertTrue(mlflow.get("metrics").has("agent/cost_usd/total"));
    }

    @Test
    void malformedJudgeOutputIsRetriedOnceThenRecordedAsAnAssessmentError() {
        // One row: the agent call comes first, then the judge's two attempts.
        fake.enqueue(FakeTurn.text("Paris."), FakeTurn.text("Sure, yes."), FakeTurn.text("yes!"));
        String runId = given().contentType("application/json").body("""
                {"dataset":{"rows":[{"inputs":{"prompt":"Capital of France?"}}]},
                 "scorers":[{"type":"judge","name":"relevance","instructions":"Is {{ outputs }} relevant?"}]}
                """).when().post("/v1/evaluations").then().statusCode(202).extract().path("run_id");
        JsonNode mlflow = readBack(runId);
        long until = System.currentTimeMillis() + 30_000;
        while (!mlflow.get("status").asText().equals("FINISHED") && System.currentTimeMillis() < until) {
            mlflow = readBack(runId);
        }
        assertEquals("FINISHED", mlflow.get("status").asText());
        assertEquals(3, fake.messageRequests().size());
        JsonNode a = mlflow.at("/traces/0/assessments/0");
        assertTrue(a.get("value").isNull(), a.toString());
        assertTrue(a.get("error").asText().contains("did not answer JSON"), a.toString());
        assertFalse(mlflow.get("metrics").has("relevance/mean"), "no value, no mean");
    }

    @Test
    void unreachableJudgeMarksTheRunFailedWithTheReason() throws InterruptedException {
        fake.enqueue(FakeTurn.text("Paris."), FakeTurn.error(401, "authentication_error", "invalid x-api-key", Map.of()));
        JsonPath started = given().contentType("application/json").body("""
                {"dataset":{"rows":[{"inputs":{"prompt":"Capital of France?"}}]},
                 "scorers":["no_error",{"type":"judge","name":"relevance","instructions":"Is {{ outputs }} relevant?"}]}
                """).when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = await(started.getString("id"));
        assertEquals("FAILED", done.getString("status"));
        assertEquals(1.0, done.getDouble("metrics.'no_error/mean'"), "what was measured is still reported");
        assertTrue(done.getString("failure").contains("judge relevance (anthropic:/claude-sonnet-5-5)"), done.prettify());
        JsonNode mlflow = readBack(started.getString("run_id"));
        assertEquals("FAILED", mlflow.get("status").asText());
        assertTrue(mlflow.at("/tags/agentfn.evaluation.failure").asText().contains("invalid x-api-key"), mlflow.toString());
    }

    @Test
    void csvDatasetWithToolExpectationsSeesTheToolsTheAgentCalled() throws Exception {
        fake.enqueue(FakeTurn.toolUse(null, new ToolCall("toolu_1", "weather", Map.of("city", "Oslo"))),
                FakeTurn.text("Cold in Oslo."), FakeTurn.text(YES));
        String path = dataset("prompt,tools,expected_response,expected_tools\n"
                + "Weather in Oslo?,\"[\"\"weather\"\",\"\"clock\"\"]\",Cold,\"[\"\"weather\"\",\"\"clock\"\"]\"\n");
        JsonPath started = given().contentType("application/json").body("""
                {"dataset":{"path":"%s"},"scorers":["expected_tools_called","contains",
                  {"type":"tokens_under","threshold":1000000},{"type":"regex","pattern":"(?i)oslo"},
                  {"type":"judge","name":"process","instructions":"Were the tools used sensibly? {{ trace }}"}]}
                """.formatted(path)).when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());
        assertEquals(false, done.getBoolean("results[0].assessments[0].value"));
        assertTrue(done.getString("results[0].assessments[0].rationale").contains("not called: [clock]"));
        assertEquals(true, done.getBoolean("results[0].assessments[1].value"));
        assertEquals(true, done.getBoolean("results[0].assessments[2].value"));
        assertEquals(true, done.getBoolean("results[0].assessments[3].value"));
        assertEquals(0.0, done.getDouble("metrics.'expected_tools_called/mean'"));
        // {{ trace }}: the judge saw what the agent did, not just the answer.
        String judgePrompt = fake.messageRequests().get(2).body();
        assertTrue(judgePrompt.contains("tool calls (in order): weather"), judgePrompt);
        assertTrue(judgePrompt.contains("status: OK") && judgePrompt.contains("final answer: Cold in Oslo."), judgePrompt);
        assertEquals("yes", done.getString("results[0].assessments[4].value"));
    }

    /**
     * Python that waits up to 15 s for a trace to reach MLflow (judge traces are delivered without the
     * assessment waiting for them) and binds it to {@code t}.
     */
    static String awaitTrace(String traceId) {
        return """
                import mlflow, json, time
                t = None
                for _ in range(50):
                    try:
                        t = mlflow.get_trace("%s")
                    except Exception:
                        t = None
                    if t is not None:
                        break
                    time.sleep(0.3)
                """.formatted(traceId);
    }

    /** Polls {@code GET /v1/evaluations/{id}} until the evaluation is no longer running (90 s at most). */
    public static JsonPath await(String id) throws InterruptedException {
        long until = System.currentTimeMillis() + 90_000;
        while (true) {
            JsonPath p = given().when().get("/v1/evaluations/" + id).then().statusCode(200).extract().jsonPath();
            if (!p.getString("status").equals("RUNNING") || System.currentTimeMillis() > until) {
                return p;
            }
            Thread.sleep(200);
        }
    }

    JsonNode readBack(String runId) {
        return readBack(python, runId);
    }

    public static JsonNode readBack(MlflowPython python, String runId) {
        return python.json("""
                import mlflow, json
                c = mlflow.MlflowClient()
                run = c.get_run("%s")
                traces = mlflow.search_traces(locations=["%s"], run_id="%s", return_type="list")
                def root(t):
                    return [s.span_id for s in t.data.spans if s.parent_id is None][0]
                out = {"status": run.info.status, "tags": run.data.tags, "params": run.data.params,
                       "metrics": run.data.metrics,
                       "inputs": [{"name": d.dataset.name, "digest": d.dataset.digest, "source_type": d.dataset.source_type,
                                   "num_rows": json.loads(d.dataset.profile)["num_rows"]} for d in run.inputs.dataset_inputs],
                       "traces": [{"id": t.info.trace_id, "metadata": t.info.trace_metadata, "root_span_id": root(t),
                                   "request": t.info.request_preview,
                                   "assessments": [{"name": a.name, "value": a.value, "rationale": a.rationale,
                                                    "error": None if a.error is None else a.error.error_message,
                                                    "source_type": a.source.source_type, "source_id": a.source.source_id,
                                                    "span_id": a.span_id, "metadata": a.metadata}
                                                   for a in t.info.assessments]} for t in traces]}
                print(json.dumps(out, default=str))
                """.formatted(runId, MlflowServerResource.experimentId(), runId));
    }

    @Test
    void badInputIsAProblemWithTheReason() throws IOException {
        String scorers = "\"scorers\":[\"no_error\"]";
        problem("{\"dataset\":{\"path\":\"missing.jsonl\"}," + scorers + "}", "dataset file missing.jsonl does not exist");
        String malformed = dataset("{\"inputs\":{\"prompt\":\"a\"}}\n{\"inputs\":{\"prompt\":\"b\"}}\n{\"inputs\":{\"prompt\":}\n");
        problem("{\"dataset\":{\"path\":\"" + malformed + "\"}," + scorers + "}", "line 3: malformed JSON");
        String invalid = dataset("prompt,max_turns\na,1\nb,0\n");
        problem("{\"dataset\":{\"path\":\"" + invalid + "\"}," + scorers + "}",
                "dataset line 3: \"max_turns\" must be between 1 and");
        String rows = "\"dataset\":{\"rows\":[{\"inputs\":{\"prompt\":\"a\"}}]}";
        problem("{" + rows + ",\"scorers\":[\"bleu\"]}", "scorers[0]: unknown scorer 'bleu'");
        problem("{" + rows + ",\"scorers\":[{\"type\":\"judge\",\"name\":\"j\",\"instructions\":\"{{ output }}\"}]}",
                "scorers[0]: unknown template variable {{ output }}");
        // Inline rows in a malformed body: where, and what, without the parser's character codes.
        given().contentType("application/json").body("{\"dataset\":{\"rows\":[{\"inputs\":{x}}]}}").when()
                .post("/v1/evaluations").then().statusCode(400).body("detail", org.hamcrest.Matchers.equalTo(
                        "malformed JSON at line 1, column 32: unexpected character 'x': was expecting double-quote to "
                                + "start field name"));
        given().when().get("/v1/evaluations/ev-nope").then().statusCode(404);
        given().when().get("/q/openapi").then().statusCode(200).body(containsString("EvaluationRequest"));
    }

    static void problem(String body, String detailStart) {
        given().contentType("application/json").body(body).when().post("/v1/evaluations").then().statusCode(400)
                .contentType(startsWith("application/problem+json")).body("detail", containsString(detailStart));
    }
}
