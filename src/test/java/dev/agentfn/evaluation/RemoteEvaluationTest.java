package dev.agentfn.evaluation;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.agentfn.api.EvaluationAgent;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import dev.agentfn.testing.StubHttp;
import dev.agentfn.invocation.Recorder;
import dev.agentfn.mlflow.MlflowAccess;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Function-URL fan-out: the deployment's {@code agentfn.evaluation.function-url} points at this test
 * instance itself, so every row is a {@code POST /v1/invocations} over HTTP carrying the run.
 */
@QuarkusTest
@TestProfile(RemoteEvaluationTest.FanOut.class)
class RemoteEvaluationTest {
    static final String KEY = "fan-out-key-aaaaaaaaaaaaaaaa";
    static final String YES = EvaluationToMlflowTest.YES;

    public static class FanOut implements QuarkusTestProfile {
        static final int PORT = freePort();

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.http.test-port", Integer.toString(PORT), "agentfn.auth.api-keys", KEY,
                    "agentfn.evaluation.function-url", "http://localhost:" + PORT);
        }

        static int freePort() {
            try (ServerSocket s = new ServerSocket(0)) {
                return s.getLocalPort();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Inject
    Evaluations evaluations;
    @Inject
    EvaluationAgent inProcess;
    @Inject
    MlflowAccess mlflow;
    @Inject
    Vertx vertx;
    @Inject
    ObjectMapper json;
    @Inject
    Recorder recorder;

    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    MlflowPython python = new MlflowPython(MlflowServerResource.server());

    @BeforeEach
    void reset() {
        fake.reset();
    }

    static final String BODY = """
            {"name":"fan-out","dataset":{"rows":[{"inputs":{"prompt":"Question 0"}},{"inputs":{"prompt":"Question 1"}},
              {"inputs":{"prompt":"Question 2"},"expectations":{"expected_response":"nothing like it"}}]},
             "scorers":[{"type":"judge","name":"relevance","instructions":"Is {{ outputs }} relevant to {{ inputs }}?"},
               "no_error","exact_match",{"type":"tokens_under","threshold":1000000}]}
            """;

    @Test
    void fannedOutRowsEndUpInMlflowExactlyAsInProcessRows() throws Exception {
        // Every turn is a valid judge answer and, as an agent answer, just text: the order of calls does not matter.
        for (int i = 0; i < 12; i++) {
            fake.enqueue(FakeTurn.text(YES));
        }
        JsonPath started = given().auth().oauth2(KEY).contentType("application/json").body(BODY)
                .when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());
        assertEquals(3, done.getInt("rows_done"));
        assertEquals(0, done.getInt("rows_failed"));
        String remoteRun = started.getString("run_id");
        // The rows came in over HTTP: this instance served them as POST /v1/invocations (by the HTTP server metrics).
        assertTrue(servedInvocations() >= 3, "rows were not sent to the function URL");

        // The same plan through the in-process invoker, for comparison.
        EvaluationRunner local = new EvaluationRunner(mlflow.tracking(), inProcess, new Limiter(4), Duration.ofMinutes(1));
        EvaluationRun run = local.start("ev-local", mlflow.experiment().id().join(), evaluations.plan(json.readTree(BODY)))
                .get(30, TimeUnit.SECONDS).settled().get(90, TimeUnit.SECONDS);
        assertEquals(EvaluationRun.Status.FINISHED, run.status(), run.failure());

        JsonNode remote = EvaluationToMlflowTest.readBack(python, remoteRun);
        JsonNode inproc = EvaluationToMlflowTest.readBack(python, run.runId());
        assertEquals(3, remote.get("traces").size(), remote.toString());
        assertEquals(summary(inproc, run.runId()), summary(remote, remoteRun));
        assertEquals(inproc.get("params"), remote.get("params"));
        assertEquals(inproc.get("metrics").size(), remote.get("metrics").size());
        for (String m : List.of("relevance/mean", "no_error/mean", "exact_match/mean", "tokens_under/mean")) {
            assertEquals(inproc.get("metrics").get(m).asDouble(), remote.get("metrics").get(m).asDouble(), m);
        }
        assertTrue(remote.get("metrics").has("agent/latency_ms/mean"), remote.toString());
        assertTrue(fake.messageRequests().size() >= 12);
    }

    static double servedInvocations() {
        String metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith("http_server_requests_seconds_count{")
                        && l.contains("uri=\"/v1/invocations\"") && l.contains("status=\"200\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** Per trace (by request): assessment name, value, source, whether it sits on the root span; run ids checked. */
    static Map<String, List<String>> summary(JsonNode readBack, String runId) {
        assertEquals("FINISHED", readBack.get("status").asText());
        Map<String, List<String>> out = new TreeMap<>();
        for (JsonNode t : readBack.get("traces")) {
            assertEquals(runId, t.at("/metadata/mlflow.sourceRun").asText(), t.toString());
            List<String> as = new ArrayList<>();
            for (JsonNode a : t.get("assessments")) {
                assertEquals(runId, a.at("/metadata/mlflow.assessment.sourceRunId").asText());
                as.add(a.get("name").asText() + "=" + a.get("value").asText() + " " + a.get("source_type").asText() + ":"
                        + a.get("source_id").asText() + " root=" + a.get("span_id").asText().equals(t.get("root_span_id")
                        .asText()) + " error=" + a.get("error").asText());
            }
            as.sort(null);
            out.put(t.get("request").asText(), as);
        }
        return out;
    }

    @Test
    void aFailedRemoteInvocationWithATraceIsAFailedRow() throws Exception {
        fake.enqueue(FakeTurn.error(400, "invalid_request_error", "prompt is too long", Map.of()));
        JsonPath started = given().auth().oauth2(KEY).contentType("application/json").body("""
                {"dataset":{"rows":[{"inputs":{"prompt":"Too long"}}]},"scorers":["no_error"]}
                """).when().post("/v1/evaluations").then().statusCode(202).extract().jsonPath();
        JsonPath done = await(started.getString("id"));
        assertEquals("FINISHED", done.getString("status"), done.prettify());
        assertEquals(1, done.getInt("rows_failed"));
        JsonNode mlflow = EvaluationToMlflowTest.readBack(python, started.getString("run_id"));
        JsonNode a = mlflow.at("/traces/0/assessments/0");
        assertEquals(false, a.get("value").asBoolean(), a.toString());
        assertTrue(a.get("rationale").asText().contains("prompt is too long"), a.toString());
        assertEquals(mlflow.at("/traces/0/root_span_id").asText(), a.get("span_id").asText());
        assertEquals(0.0, mlflow.at("/metrics/no_error~1mean").asDouble());
    }

    @Test
    void sourceRunHeaderIsValidated() {
        given().auth().oauth2(KEY).contentType("application/json").header("X-Agentfn-Source-Run", "../../etc")
                .body("{\"prompt\":\"hi\"}").when().post("/v1/invocations").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("32 lowercase hex digits"));
        given().contentType("application/json").header("X-Agentfn-Source-Run", "0123456789abcdef0123456789abcdef")
                .body("{\"prompt\":\"hi\"}").when().post("/v1/invocations").then().statusCode(401);
        assertEquals(0, fake.messageRequests().size());
    }

    @Test
    void remote5xxAndTimeoutBecomeFailedRowsWithErrorAssessments() throws Exception {
        List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
        HttpServer stub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        stub.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
        stub.createContext("/", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            seen.add(Map.of("path", ex.getRequestURI().getPath(), "auth", ex.getRequestHeaders().getFirst("Authorization"),
                    "run", ex.getRequestHeaders().getFirst("X-Agentfn-Source-Run"), "body", body));
            if (body.contains("hang")) {
                try {
                    Thread.sleep(3000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            ex.getResponseHeaders().set("Content-Type", "text/html");
            StubHttp.respond(ex, 502, "<html>Bad Gateway</html>");
        });
        stub.start();
        try {
            RemoteAgentInvoker remote = new RemoteAgentInvoker(vertx, json, inProcess,
                    URI.create("http://127.0.0.1:" + stub.getAddress().getPort() + "/"), Optional.of("stub-key"),
                    Duration.ofMillis(800), recorder);
                EvaluationRunner runner = new EvaluationRunner(mlflow.tracking(), remote, new Limiter(4), Duration.ofMinutes(1));
            EvaluationPlan plan = evaluations.plan(json.readTree("""
                    {"dataset":{"rows":[{"inputs":{"prompt":"boom"}},{"inputs":{"prompt":"hang"}}]},"scorers":["no_error"]}
                    """));
            EvaluationRun run = runner.start("ev-stub", mlflow.experiment().id().join(), plan).get(30, TimeUnit.SECONDS)
                    .settled().get(60, TimeUnit.SECONDS);
            assertEquals(EvaluationRun.Status.FINISHED, run.status(), run.failure());
            assertEquals(2, run.doneRows());
            assertEquals(2, run.failedRows(), "counted, not dropped");

            assertEquals(2, seen.size());
            for (Map<String, String> r : seen) {
                assertEquals("/v1/invocations", r.get("path"));
                assertEquals("Bearer stub-key", r.get("auth"));
                assertEquals(run.runId(), r.get("run"));
                assertEquals("messages", json.readTree(r.get("body")).get("engine").asText());
            }
            JsonNode back = EvaluationToMlflowTest.readBack(python, run.runId());
            assertEquals(2, back.get("traces").size(), back.toString());
            Map<String, String> why = new TreeMap<>();
            for (JsonNode t : back.get("traces")) {
                assertEquals(run.runId(), t.at("/metadata/mlflow.sourceRun").asText());
                JsonNode a = t.at("/assessments/0");
                assertEquals(false, a.get("value").asBoolean(), a.toString());
                assertEquals(t.get("root_span_id").asText(), a.get("span_id").asText());
                why.put(t.get("request").asText(), a.get("rationale").asText());
            }
            assertTrue(why.get("boom").contains("HTTP 502"), why.toString());
            assertTrue(why.get("hang").contains("no answer within 800 ms"), why.toString());
            assertEquals(0.0, back.at("/metrics/no_error~1mean").asDouble());
        } finally {
            stub.stop(0);
        }
    }

    JsonPath await(String id) throws InterruptedException {
        long until = System.currentTimeMillis() + 90_000;
        while (true) {
            JsonPath p = given().auth().oauth2(KEY).when().get("/v1/evaluations/" + id).then().statusCode(200)
                    .extract().jsonPath();
            if (!p.getString("status").equals("RUNNING") || System.currentTimeMillis() > until) {
                assertNotNull(p.getString("status"));
                return p;
            }
            Thread.sleep(200);
        }
    }
}
