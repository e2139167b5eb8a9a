package dev.agentfn.mlflow;

import static dev.agentfn.testing.StubHttp.respond;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.json.JsonValues;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Databricks path and auth headers against a local stub (no Databricks is reachable from tests). */
class DatabricksUploadTest {
    static final String TOKEN = "dapi-very-secret-token";
    static final String SIGNATURE = "sig=SIGNED-SECRET";

    record Recorded(String method, String pathAndQuery, com.sun.net.httpserver.Headers headers, byte[] body) {
        String header(String name) {
            return headers.getFirst(name);
        }

        @Override
        public String toString() {
            return method + " " + pathAndQuery.replace(SIGNATURE, "sig=…") + " (" + body.length + " bytes)";
        }
    }

    HttpServer stub;
    final List<Recorded> requests = new CopyOnWriteArrayList<>();
    volatile String credentialType = "AWS_PRESIGNED_URL";
    volatile int signedStatus = 200;

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

    private String base() {
        return "http://127.0.0.1:" + stub.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        String path = ex.getRequestURI().getRawPath();
        String query = ex.getRequestURI().getRawQuery();
        requests.add(new Recorded(ex.getRequestMethod(), path + (query == null ? "" : "?" + query),
                ex.getRequestHeaders(), body));
        if (path.equals("/api/3.0/mlflow/traces")) {
            ObjectNode response = (ObjectNode) JsonValues.parse(body);
            ObjectNode info = (ObjectNode) response.get("trace").get("trace_info");
            ((ObjectNode) info.get("tags")).put("mlflow.artifactLocation", "dbfs:/databricks/mlflow-tracking/1/traces");
            respond(ex, 200, JsonValues.write(response));
        } else if (path.endsWith("/credentials-for-data-upload")) {
            respond(ex, 200, """
                    {"credential_info":{"signed_uri":"%s/signed/traces.json?%s","type":"%s",
                     "headers":[{"name":"x-amz-server-side-encryption","value":"AES256"}]}}"""
                    .formatted(base(), SIGNATURE, credentialType));
        } else if (path.startsWith("/signed/")) {
            respond(ex, signedStatus, signedStatus == 200 ? "" : "<Error>" + SIGNATURE + "</Error>");
        } else if (path.startsWith("/api/2.0/mlflow/experiments/get-by-name")) {
            respond(ex, 401, "{\"error_code\":\"UNAUTHENTICATED\",\"message\":\"bad credentials\"}");
        } else {
            respond(ex, 404, "{}");
        }
    }

    private MlflowTraceWriter databricksWriter() {
        MlflowTarget target = new MlflowTarget(java.net.URI.create(base()), MlflowTarget.Auth.bearer(TOKEN), true,
                Duration.ofSeconds(10));
        return new MlflowTraceWriter(new MlflowTraceClient(MlflowRest.standalone(target)));
    }

    private List<Recorded> signedRequests() {
        return requests.stream().filter(r -> r.pathAndQuery().startsWith("/signed/")).toList();
    }

    @Test
    void awsUploadUsesStartTraceThenCredentialsThenSignedPut() throws Exception {
        Trace trace = Fixtures.agentTrace("1");
        WriteOutcome outcome = databricksWriter().write(trace).get(30, TimeUnit.SECONDS);
        assertEquals(WriteOutcome.delivered(WriteOutcome.Path.DATABRICKS), outcome, outcome.reason() + " after " + requests);
        assertEquals(3, requests.size(), "no OTLP on Databricks");
        Recorded start = requests.get(0);
        assertEquals("POST /api/3.0/mlflow/traces", start.method() + " " + start.pathAndQuery());
        assertEquals("Bearer " + TOKEN, start.header("Authorization"));
        Recorded cred = requests.get(1);
        assertEquals("GET /api/2.0/mlflow/traces/" + trace.info().traceId() + "/credentials-for-data-upload",
                cred.method() + " " + cred.pathAndQuery());
        assertEquals("Bearer " + TOKEN, cred.header("Authorization"));
        Recorded put = requests.get(2);
        assertEquals("PUT /signed/traces.json?" + SIGNATURE, put.method() + " " + put.pathAndQuery());
        assertNull(put.header("Authorization"), "MLflow credentials never go to cloud storage");
        assertEquals("AES256", put.header("x-amz-server-side-encryption"));
        assertEquals("application/json", put.header("Content-Type"));
        JsonNode spans = JsonValues.parse(put.body()).get("spans");
        assertEquals(4, spans.size());
        assertEquals(Base64.getEncoder().encodeToString(HexFormat.of().parseHex(trace.info().otelTraceId())),
                spans.get(0).get("trace_id").asText());
    }

    @Test
    void azureBlobPutIsABlockBlob() throws Exception {
        credentialType = "AZURE_SAS_URI";
        WriteOutcome outcome = databricksWriter().write(Fixtures.agentTrace("1")).get(30, TimeUnit.SECONDS);
        assertTrue(outcome.delivered(), outcome.reason() + " after " + requests);
        Recorded put = signedRequests().get(0);
        assertEquals("PUT", put.method());
        assertEquals("BlockBlob", put.header("x-ms-blob-type"));
        assertEquals(4, JsonValues.parse(put.body()).get("spans").size());
    }

    @Test
    void adlsGen2CreatesAppendsAndFlushes() throws Exception {
        credentialType = "AZURE_ADLS_GEN2_SAS_URI";
        WriteOutcome outcome = databricksWriter().write(Fixtures.agentTrace("1")).get(30, TimeUnit.SECONDS);
        assertTrue(outcome.delivered(), outcome.reason() + " after " + requests);
        List<Recorded> steps = signedRequests();
        assertEquals(3, steps.size());
        assertEquals("PUT /signed/traces.json?" + SIGNATURE + "&resource=file",
                steps.get(0).method() + " " + steps.get(0).pathAndQuery());
        assertEquals(0, steps.get(0).body().length);
        assertEquals("PATCH /signed/traces.json?" + SIGNATURE + "&action=append&position=0",
                steps.get(1).method() + " " + steps.get(1).pathAndQuery());
        int length = steps.get(1).body().length;
        assertEquals(4, JsonValues.parse(steps.get(1).body()).get("spans").size());
        assertEquals("PATCH /signed/traces.json?" + SIGNATURE + "&action=flush&position=" + length,
                steps.get(2).method() + " " + steps.get(2).pathAndQuery());
        assertEquals(0, steps.get(2).body().length);
    }

    @Test
    void failedSignedUploadHidesTheSignatureAndToken() throws Exception {
        signedStatus = 403;
        WriteOutcome outcome = databricksWriter().write(Fixtures.agentTrace("1")).get(30, TimeUnit.SECONDS);
        assertFalse(outcome.delivered());
        assertFalse(outcome.retryable());
        assertTrue(outcome.reason().contains("403"), outcome.reason() + " after " + requests);
        assertFalse(outcome.reason().contains("SIGNED-SECRET"), outcome.reason());
        assertFalse(outcome.reason().contains(TOKEN), outcome.reason());
    }

    @Test
    void basicAuthHeaderIsSentAndNeverPrinted() throws Exception {
        MlflowTarget target = MlflowTarget.of(base()).withAuth(MlflowTarget.Auth.basic("alice", "pa55word"));
        MlflowTracking tracking = new MlflowTracking(MlflowRest.standalone(target));
        var f = tracking.getExperimentByName("x");
        Throwable t = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> f.get(30, TimeUnit.SECONDS));
        MlflowClientException e = MlflowRest.asClientException(t, "test");
        assertEquals(401, e.status());
        assertEquals("UNAUTHENTICATED", e.errorCode());
        assertFalse(e.getMessage().contains("pa55word"));
        String expected = "Basic " + Base64.getEncoder().encodeToString("alice:pa55word".getBytes(StandardCharsets.UTF_8));
        assertEquals(expected, requests.get(0).header("Authorization"));
        assertFalse(target.toString().contains("pa55word"), target.toString());
        assertFalse(MlflowTarget.Auth.bearer(TOKEN).toString().contains(TOKEN));
    }
}
