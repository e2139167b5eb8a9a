package dev.agentfn.mlflow;

import static dev.agentfn.mlflow.TraceReadBack.assertAgentTrace;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.MlflowApi.AssessmentKind;
import dev.agentfn.mlflow.MlflowApi.NewAssessment;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanStatus;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.entities.TraceState;
import dev.agentfn.mlflow.json.JsonValues;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import dev.agentfn.testing.MlflowServerResource;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Path A against a real SQLite-backed server. */
class MlflowTraceWriterTest {
    static MlflowServer server;
    static MlflowTraceClient traces;
    static MlflowTracking tracking;
    static MlflowTraceWriter writer;
    static MlflowPython python;
    static String experimentId;

    @BeforeAll
    static void startServer() {
        server = MlflowServerResource.server();
        server.start();
        experimentId = server.createExperiment("writer-" + UUID.randomUUID());
        MlflowRest rest = MlflowRest.standalone(MlflowTarget.of(server.uri().toString()));
        traces = new MlflowTraceClient(rest);
        tracking = new MlflowTracking(rest);
        writer = new MlflowTraceWriter(traces);
        python = new MlflowPython(server);
    }

    static WriteOutcome write(MlflowTraceWriter w, Trace trace) throws Exception {
        return w.write(trace).get(60, TimeUnit.SECONDS);
    }

    @Test
    void otlpRoundTripReadsBackThroughPython() throws Exception {
        Trace trace = Fixtures.agentTrace(experimentId);
        WriteOutcome outcome = write(writer, trace);
        assertEquals(WriteOutcome.delivered(WriteOutcome.Path.OTLP), outcome, outcome.reason());
        JsonNode back = TraceReadBack.read(python, trace.info().traceId());
        assertAgentTrace(trace, back);
        assertEquals("TRACKING_STORE", back.get("tags").get(MlflowKeys.Tag.SPANS_LOCATION).asText());
        assertFalse(writer.otlpKnownUnsupported());
    }

    @Test
    void writingTwiceDuplicatesNothing() throws Exception {
        Trace trace = Fixtures.agentTrace(experimentId);
        assertTrue(write(writer, trace).delivered());
        JsonNode first = TraceReadBack.read(python, trace.info().traceId());
        assertTrue(write(writer, trace).delivered());
        assertTrue(write(writer, trace).delivered());
        JsonNode again = TraceReadBack.read(python, trace.info().traceId());
        assertAgentTrace(trace, again);
        assertEquals(first.get("metadata").get(MlflowKeys.Metadata.TOKEN_USAGE),
                again.get("metadata").get(MlflowKeys.Metadata.TOKEN_USAGE));
        JsonNode rest = tracking.getTraceInfo(trace.info().traceId()).get(30, TimeUnit.SECONDS).orElseThrow();
        assertEquals(46, JsonValues.parse(rest.get("trace_metadata").get(MlflowKeys.Metadata.TOKEN_USAGE).asText())
                .get("total_tokens").asInt());
    }

    @Test
    void rewriteAfterAnAssessmentKeepsTheAssessment() throws Exception {
        Trace trace = Fixtures.agentTrace(experimentId);
        assertTrue(write(writer, trace).delivered());
        String id = tracking.createAssessment(new NewAssessment(trace.info().traceId(), "quality",
                AssessmentKind.FEEDBACK, 0.75, "CODE", "agentfn-test", "fine", Map.of(), null))
                .get(30, TimeUnit.SECONDS);
        WriteOutcome again = write(writer, trace);
        assertTrue(again.delivered(), again.reason());
        JsonNode info = tracking.getTraceInfo(trace.info().traceId()).get(30, TimeUnit.SECONDS).orElseThrow();
        assertEquals(id, info.get("assessments").get(0).get("assessment_id").asText());
        assertEquals(0.75, info.get("assessments").get(0).get("feedback").get("value").asDouble());
    }

    @Test
    void spansJoinedToAnotherOwnersTraceAreAddedAndItsRecordIsLeftAsTheOwnerWroteIt() throws Exception {
        Trace owner = Fixtures.agentTrace(experimentId);
        assertTrue(write(writer, owner).delivered());
        String ownerRoot = owner.spans().get(0).spanId();
        long t0 = owner.spans().get(0).startTimeUnixNano();
        SpanData call = new SpanData(owner.info().otelTraceId(), Fixtures.hex(8), null, "llm", t0 + 1_000_000,
                t0 + 2_000_000, SpanStatus.OK, Map.of(MlflowKeys.Span.TYPE, MlflowKeys.SpanType.LLM), java.util.List.of());
        TraceInfo joinerInfo = new TraceInfo(owner.info().traceId(), experimentId, null, t0 / 1_000_000, 1,
                TraceState.OK, "the joiner's request", "the joiner's response", Map.of(MlflowKeys.Metadata.AGENTFN_ENGINE,
                "joiner"), Map.of(MlflowKeys.Tag.TRACE_NAME, "llm"));
        WriteOutcome outcome = write(writer, new Trace(joinerInfo, java.util.List.of(call)).joinedUnder(ownerRoot));
        assertEquals(WriteOutcome.delivered(WriteOutcome.Path.OTLP), outcome, outcome.reason());

        JsonNode back = TraceReadBack.read(python, owner.info().traceId());
        assertEquals(owner.spans().size() + 1, back.get("spans").size(), back.toString());
        JsonNode added = java.util.stream.StreamSupport.stream(back.get("spans").spliterator(), false)
                .filter(n -> n.get("span_id").asText().equals(call.spanId())).findFirst().orElseThrow();
        assertEquals(ownerRoot, added.get("parent_id").asText(), "under the owner's span");
        assertEquals("test", back.at("/metadata/" + MlflowKeys.Metadata.AGENTFN_ENGINE).asText(), "the owner's record");
        assertEquals("claude_code_conversation", back.at("/tags/" + MlflowKeys.Tag.TRACE_NAME).asText());
        assertEquals("OK", back.get("state").asText());
    }

    @Test
    void unknownExperimentFailsWithoutRetry() throws Exception {
        Trace trace = Fixtures.agentTrace("987654321");
        WriteOutcome outcome = write(writer, trace);
        assertFalse(outcome.delivered());
        assertFalse(outcome.retryable(), outcome.reason());
        assertTrue(outcome.reason().contains("RESOURCE_DOES_NOT_EXIST"), outcome.reason());
        assertFalse(writer.otlpKnownUnsupported(), "an unknown experiment is not a missing OTLP endpoint");
    }

    @Test
    void serverDownFailsRetryableAndFast() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        MlflowTraceWriter down = new MlflowTraceWriter(new MlflowTraceClient(MlflowRest.standalone(
                MlflowTarget.of("http://127.0.0.1:" + port).withRequestTimeout(Duration.ofSeconds(5)))));
        long start = System.nanoTime();
        WriteOutcome outcome = write(down, Fixtures.agentTrace(experimentId));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertFalse(outcome.delivered());
        assertTrue(outcome.retryable(), outcome.reason());
        assertTrue(outcome.reason().contains("connection refused"), outcome.reason());
        assertTrue(millis < 3000, "took " + millis + " ms");
    }

    @Test
    void invalidTraceIsReportedNotThrown() throws Exception {
        Trace good = Fixtures.agentTrace(experimentId);
        Trace bad = new Trace(good.info().withExperimentId(experimentId), good.spans().subList(1, 2));
        Trace mismatched = new Trace(Fixtures.agentTrace(experimentId).info(), good.spans());
        WriteOutcome outcome = write(writer, mismatched);
        assertFalse(outcome.delivered());
        assertFalse(outcome.retryable());
        assertTrue(outcome.reason().startsWith("invalid trace"), outcome.reason());
        assertTrue(write(writer, bad).delivered(), "a partial trace (no root) is still written");
    }
}
