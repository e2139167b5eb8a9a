package dev.agentfn.mlflow;

import static dev.agentfn.testing.StubHttp.respond;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.agentfn.mlflow.json.JsonValues;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Path selection against a stub server that has no OTLP route (bare 404, like pre-3.4 MLflow). */
class MlflowTraceWriterStubTest {
    HttpServer stub;
    final List<String> requests = new CopyOnWriteArrayList<>();
    final AtomicLong clock = new AtomicLong();
    volatile int otlpStatus = 404;

    @BeforeEach
    void startStub() throws IOException {
        stub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        stub.createContext("/", this::handle);
        stub.start();
    }

    @AfterEach
    void stopStub() {
        stub.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        String path = ex.getRequestURI().getRawPath();
        requests.add(ex.getRequestMethod() + " " + path);
        if (path.equals("/v1/traces")) {
            respond(ex, otlpStatus, otlpStatus == 200 ? "" : "<html>Not Found</html>");
        } else if (path.equals("/api/3.0/mlflow/traces")) {
            ObjectNode response = (ObjectNode) JsonValues.parse(body);
            ObjectNode info = (ObjectNode) response.get("trace").get("trace_info");
            ((ObjectNode) info.get("tags")).put(MlflowKeys.Tag.ARTIFACT_LOCATION,
                    "mlflow-artifacts:/1/traces/" + info.get("trace_id").asText() + "/artifacts");
            respond(ex, 200, JsonValues.write(response));
        } else if (path.startsWith("/api/2.0/mlflow-artifacts/artifacts/")) {
            respond(ex, 200, "{}");
        } else {
            respond(ex, 500, "unexpected");
        }
    }

    private long count(String request) {
        return requests.stream().filter(r -> r.startsWith(request)).count();
    }

    @Test
    void bareNotFoundSelectsPathBAndIsRememberedUntilReprobe() throws Exception {
        MlflowTraceClient traces = new MlflowTraceClient(MlflowRest.standalone(MlflowTarget.of("http://127.0.0.1:" + stub.getAddress().getPort())));
        MlflowTraceWriter writer = new MlflowTraceWriter(traces, Duration.ofMinutes(10), clock::get);

        WriteOutcome first = writer.write(Fixtures.agentTrace("1")).get(30, TimeUnit.SECONDS);
        assertEquals(WriteOutcome.delivered(WriteOutcome.Path.TRACES_JSON), first, first.reason());
        assertEquals(1, count("POST /v1/traces"));
        assertEquals(1, count("POST /api/3.0/mlflow/traces"), "StartTraceV3 of path A is reused, not repeated");
        assertEquals(1, count("PUT /api/2.0/mlflow-artifacts/artifacts/1/traces/tr-"));
        assertTrue(writer.otlpKnownUnsupported());

        clock.addAndGet(Duration.ofMinutes(9).toNanos());
        assertTrue(writer.write(Fixtures.agentTrace("1")).get(30, TimeUnit.SECONDS).delivered());
        assertEquals(1, count("POST /v1/traces"), "remembered: straight to path B");

        clock.addAndGet(Duration.ofMinutes(2).toNanos());
        assertFalse(writer.otlpKnownUnsupported());
        otlpStatus = 200;
        WriteOutcome probed = writer.write(Fixtures.agentTrace("1")).get(30, TimeUnit.SECONDS);
        assertEquals(WriteOutcome.delivered(WriteOutcome.Path.OTLP), probed, probed.reason());
        assertEquals(2, count("POST /v1/traces"));
    }

    @Test
    void serverErrorOnOtlpIsRetryableFailureNotFallback() throws Exception {
        otlpStatus = 503;
        MlflowTraceClient traces = new MlflowTraceClient(MlflowRest.standalone(MlflowTarget.of("http://127.0.0.1:" + stub.getAddress().getPort())));
        MlflowTraceWriter writer = new MlflowTraceWriter(traces);
        WriteOutcome outcome = writer.write(Fixtures.agentTrace("1")).get(30, TimeUnit.SECONDS);
        assertFalse(outcome.delivered());
        assertTrue(outcome.retryable(), outcome.reason());
        assertEquals(WriteOutcome.Path.OTLP, outcome.path());
        assertFalse(writer.otlpKnownUnsupported());
        assertEquals(0, count("PUT "));
    }
}
