package dev.agentfn.mlflow;

import static dev.agentfn.mlflow.TraceReadBack.assertAgentTrace;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.MlflowApi.OtlpExportResult;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Path B: a file-store server answers OTLP with 501, so the writer falls back to traces.json. */
class MlflowTraceWriterFileStoreTest {
    static MlflowServer server;
    static MlflowTraceClient traces;
    static MlflowTracking tracking;
    static MlflowPython python;
    static String experimentId;

    @BeforeAll
    static void startServer() {
        server = MlflowServer.startFileStore();
        experimentId = server.createExperiment("file-store");
        MlflowRest rest = MlflowRest.standalone(MlflowTarget.of(server.uri().toString()));
        traces = new MlflowTraceClient(rest);
        tracking = new MlflowTracking(rest);
        python = new MlflowPython(server);
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @Test
    void otlpIsUnsupportedOnAFileStore() throws Exception {
        Trace trace = Fixtures.agentTrace(experimentId);
        OtlpExportResult r = traces.logSpansOtlp(experimentId, null, trace.spans()).get(30, TimeUnit.SECONDS);
        assertEquals(OtlpExportResult.Outcome.UNSUPPORTED, r.outcome(), r.message());
        assertEquals(501, r.status());
    }

    @Test
    void fallsBackToTracesJsonAndRemembersIt() throws Exception {
        MlflowTraceWriter writer = new MlflowTraceWriter(traces);
        Trace trace = Fixtures.agentTrace(experimentId);
        WriteOutcome outcome = writer.write(trace).get(60, TimeUnit.SECONDS);
        assertEquals(WriteOutcome.delivered(WriteOutcome.Path.TRACES_JSON), outcome, outcome.reason());
        assertTrue(writer.otlpKnownUnsupported());
        assertAgentTrace(trace, TraceReadBack.read(python, trace.info().traceId()));

        long otlpPostsBefore = otlpPosts();
        Trace second = Fixtures.agentTrace(experimentId);
        WriteOutcome next = writer.write(second).get(60, TimeUnit.SECONDS);
        assertEquals(WriteOutcome.Path.TRACES_JSON, next.path());
        assertTrue(next.delivered(), next.reason());
        assertEquals(otlpPostsBefore, otlpPosts(), "the second write must not try OTLP again");
    }

    private static long otlpPosts() {
        return server.logTail(100_000).lines().filter(l -> l.contains("POST /v1/traces")).count();
    }

    @Test
    void rewritingOnPathBIsIdempotent() throws Exception {
        MlflowTraceWriter writer = new MlflowTraceWriter(traces);
        Trace trace = Fixtures.agentTrace(experimentId);
        assertTrue(writer.write(trace).get(60, TimeUnit.SECONDS).delivered());
        assertTrue(writer.write(trace).get(60, TimeUnit.SECONDS).delivered());
        JsonNode back = TraceReadBack.read(python, trace.info().traceId());
        assertAgentTrace(trace, back);
        assertFalse(back.get("tags").has(MlflowKeys.Tag.SPANS_LOCATION));
    }
}
