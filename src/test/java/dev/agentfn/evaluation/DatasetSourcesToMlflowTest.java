package dev.agentfn.evaluation;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Dataset sources beyond files: an MLflow evaluation dataset made with MLflow's Python client, and a JSONL
 * file served over HTTP (the test profile allows the loopback host and plain HTTP). Results are read back
 * with the Python client as in {@link EvaluationToMlflowTest}.
 */
@QuarkusTest
class DatasetSourcesToMlflowTest {
    static final String YES = "{\"result\":\"yes\",\"rationale\":\"judged yes\"}";
    static final String SCORERS = """
            "scorers":[{"type":"judge","name":"relevance","instructions":"Is {{ outputs }} relevant to {{ inputs }}?"},
                       "exact_match","no_error"]""";

    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());

    @BeforeEach
    void reset() {
        fake.reset();
    }

    /** Creates the dataset as users do; {@code count} records (more than one page), plus {@code extra} Python. */
    JsonNode createDataset(String name, int count, String inputKey) {
        return python.json("""
                import mlflow, json
                from mlflow.genai.datasets import create_dataset
                ds = create_dataset(name="%s", experiment_id=["%s"])
                ds.merge_records([{"inputs": {"%s": "Question %%d" %% i},
                                   "expectations": {"expected_response": %s}} for i in range(%d)])
                print(json.dumps({"id": ds.dataset_id, "digest": mlflow.genai.datasets.get_dataset(dataset_id=ds.dataset_id).digest}))
                """.formatted(name, MlflowServerResource.experimentId(), inputKey,
                new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(YES).toString(), count));
    }

    @Test
    void mlflowDatasetRecordsAreTheRowsAndTheRunRecordsTheDataset() throws Exception {
        String name = "qa-" + UUID.randomUUID().toString().substring(0, 8);
        JsonNode ds = createDataset(name, 12, "prompt");
        for (int i = 0; i < 24; i++) {
            fake.enqueue(FakeTurn.text(YES));
        }
        // 12 records read 5 per page (agentfn.evaluation.mlflow-dataset-page-size=5 in the test profile).
        JsonPath started = given().contentType("application/json")
                .body("{\"name\":\"from-mlflow\",\"dataset\":{\"mlflow_dataset\":\"" + name + "\"}," + SCORERS + "}")
                .when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        assertEquals(12, started.getInt("rows"));
        String runId = started.getString("run_id");
        JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());
        assertEquals(12, done.getInt("rows_done"));

        JsonNode run = EvaluationToMlflowTest.readBack(python, runId);
        assertEquals("genai_evaluate", run.at("/tags/mlflow.runType").asText());
        assertEquals("FINISHED", run.get("status").asText());
        assertEquals("mlflow_dataset:" + name, run.at("/params/dataset").asText());
        assertEquals(ds.get("id").asText(), run.at("/params/dataset_id").asText());
        assertEquals(ds.get("digest").asText(), run.at("/params/dataset_digest").asText());
        assertEquals(name, run.at("/inputs/0/name").asText());
        assertEquals("mlflow_evaluation_dataset", run.at("/inputs/0/source_type").asText());
        assertEquals(ds.get("digest").asText(), run.at("/inputs/0/digest").asText());
        assertEquals(12, run.at("/inputs/0/num_rows").asInt());
        JsonNode source = python.json("""
                import mlflow, json
                run = mlflow.MlflowClient().get_run("%s")
                print(json.dumps(json.loads(run.inputs.dataset_inputs[0].dataset.source)))
                """.formatted(runId));
        assertEquals(ds.get("id").asText(), source.get("dataset_id").asText());

        JsonNode traces = run.get("traces");
        assertEquals(12, traces.size());
        Set<String> prompts = new HashSet<>();
        for (JsonNode t : traces) {
            assertEquals(runId, t.at("/metadata/mlflow.sourceRun").asText());
            assertEquals(3, t.get("assessments").size(), t.toString());
            prompts.add(t.get("request").asText());
            for (JsonNode a : t.get("assessments")) {
                assertTrue(a.get("error").isNull(), a.toString());
                assertFalse(a.get("rationale").asText().isBlank(), a.toString());
                assertEquals(runId, a.at("/metadata/mlflow.assessment.sourceRunId").asText());
                if (a.get("name").asText().equals("exact_match")) {
                    assertTrue(a.get("value").asBoolean(), "expectations came from the records: " + a);
                }
            }
        }
        assertEquals(12, prompts.size(), "every record ran once: " + prompts);
        assertEquals(1.0, run.at("/metrics/exact_match~1mean").asDouble());
        assertEquals(1.0, run.at("/metrics/relevance~1mean").asDouble());
    }

    @Test
    void recordsWithOtherInputKeysFindTheirPrompt() throws Exception {
        String name = "questions-" + UUID.randomUUID().toString().substring(0, 8);
        JsonNode ds = createDataset(name, 2, "question");
        String body = "{\"dataset\":{\"mlflow_dataset\":\"" + name + "\",\"prompt_key\":\"query\"}," + SCORERS + "}";
        given().contentType("application/json").body(body).when().post("/v1/evaluations").then().statusCode(400)
                .contentType(org.hamcrest.Matchers.startsWith("application/problem+json"))
                .body("detail", org.hamcrest.Matchers.allOf(
                        org.hamcrest.Matchers.containsString("MLflow dataset " + name + " record dr-"),
                        org.hamcrest.Matchers.containsString("inputs.query (dataset.prompt_key) must be a non-empty text; "
                                + "inputs have [question]")));

        for (int i = 0; i < 4; i++) {
            fake.enqueue(FakeTurn.text(YES));
        }
        // By id this time, records as MLflow users write them: the only text input is the prompt.
        JsonPath started = given().contentType("application/json")
                .body("{\"dataset\":{\"mlflow_dataset\":\"" + ds.get("id").asText() + "\"}," + SCORERS + "}")
                .when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());
        assertEquals(2, done.getInt("rows_done"));
        assertTrue(fake.messageRequests().get(0).body().contains("Question "), fake.messageRequests().get(0).body());

        EvaluationToMlflowTest.problem("{\"dataset\":{\"mlflow_dataset\":\"no-such-" + UUID.randomUUID() + "\"},"
                + SCORERS + "}", "MLflow has no evaluation dataset named 'no-such-");
        EvaluationToMlflowTest.problem("{\"dataset\":{\"mlflow_dataset\":\"d-00000000000000000000000000000000\"},"
                + SCORERS + "}", "MLflow has no evaluation dataset with id d-00000000000000000000000000000000");
        EvaluationToMlflowTest.problem("{\"dataset\":{\"path\":\"x.jsonl\",\"prompt_key\":\"q\",\"prompt_template\":\"{{ q }}\"},"
                + SCORERS + "}", "dataset: give prompt_key or prompt_template, not both");
    }

    @Test
    void urlDatasetRunsLikeAFileAndFetchErrorsAreProblems() throws Exception {
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            rows.append("{\"inputs\":{\"prompt\":\"U").append(i).append("\"},\"expectations\":{\"expected_response\":")
                    .append(new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(YES).toString()).append("}}\n");
        }
        byte[] good = rows.toString().getBytes(StandardCharsets.UTF_8);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            boolean found = ex.getRequestURI().getPath().equals("/qa.jsonl");
            byte[] body = found ? good : "{\"inputs\":{\"prompt\":\"a\"}}\nnot json\n".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(ex.getRequestURI().getPath().equals("/gone.jsonl") ? 404 : 200, body.length);
            try (var out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            for (int i = 0; i < 6; i++) {
                fake.enqueue(FakeTurn.text(YES));
            }
            JsonPath started = given().contentType("application/json")
                    .body("{\"dataset\":{\"url\":\"" + base + "/qa.jsonl\"}," + SCORERS + "}")
                    .when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
            JsonPath done = EvaluationToMlflowTest.await(started.getString("id"));
            assertEquals("FINISHED", done.getString("status"), done.prettify());
            JsonNode run = EvaluationToMlflowTest.readBack(python, started.getString("run_id"));
            assertEquals(base + "/qa.jsonl", run.at("/params/dataset").asText());
            assertEquals("http", run.at("/inputs/0/source_type").asText());
            assertEquals(3, run.get("traces").size());
            assertNotNull(run.at("/metrics/exact_match~1mean"));
            assertEquals(1.0, run.at("/metrics/exact_match~1mean").asDouble());

            EvaluationToMlflowTest.problem("{\"dataset\":{\"url\":\"" + base + "/gone.jsonl\"}," + SCORERS + "}",
                    "dataset URL " + base + "/gone.jsonl answered HTTP 404");
            EvaluationToMlflowTest.problem("{\"dataset\":{\"url\":\"" + base + "/broken.jsonl\"}," + SCORERS + "}",
                    "line 2: malformed JSON");
            EvaluationToMlflowTest.problem("{\"dataset\":{\"url\":\"https://example.com/qa.jsonl\"}," + SCORERS + "}",
                    "dataset URL host example.com is not in agentfn.evaluation.dataset-urls.allowed-hosts");
        } finally {
            server.stop(0);
        }
    }
}
