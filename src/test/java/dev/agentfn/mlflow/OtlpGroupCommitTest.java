package dev.agentfn.mlflow;

import static dev.agentfn.mlflow.TraceReadBack.assertAgentTrace;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.json.JsonValues;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import dev.agentfn.testing.MlflowServerResource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Group commit against a real MLflow server: traces that finish while an OTLP request is in flight share
 * the next one, and each still reads back through MLflow's Python client exactly like a trace written
 * alone. A proxy between writer and server holds OTLP requests so that the batches form deterministically.
 */
class OtlpGroupCommitTest {
    static final int TRACES = 8;
    static MlflowServer server;
    static MlflowPython python;
    static String experimentId;
    HoldingMlflowProxy proxy;

    @BeforeAll
    static void startServer() {
        server = MlflowServerResource.server();
        server.start();
        experimentId = server.createExperiment("group-commit-" + UUID.randomUUID());
        python = new MlflowPython(server);
    }

    @BeforeEach
    void startProxy() throws Exception {
        proxy = new HoldingMlflowProxy(server.uri());
    }

    @AfterEach
    void stopProxy() {
        proxy.close();
    }

    /** One OTLP request in flight at a time: whatever finishes meanwhile waits and goes in the next one. */
    MlflowTraceWriter writer(Duration requestTimeout) {
        MlflowTraceClient client = new MlflowTraceClient(
                MlflowRest.standalone(MlflowTarget.of(proxy.uri().toString()).withRequestTimeout(requestTimeout)));
        return new MlflowTraceWriter(client, Duration.ofMinutes(10), System::nanoTime, MlflowTraceWriter.SEQUENTIAL_FROM,
                new OtlpBatchLimits(2000, 4L * 1024 * 1024, 1));
    }

    /**
     * Writes the first trace and holds its OTLP request at the proxy, writes the rest, which queue behind
     * it, and lets the first go once they all wait: the rest then share one request.
     */
    List<CompletableFuture<WriteOutcome>> writeBehindAHeldRequest(MlflowTraceWriter writer, List<Trace> traces,
            Runnable beforeRelease) throws Exception {
        CountDownLatch held = proxy.holdBeforeForwarding();
        List<CompletableFuture<WriteOutcome>> outcomes = new ArrayList<>();
        outcomes.add(writer.write(traces.get(0)));
        assertTrue(proxy.otlpArrived.tryAcquire(30, TimeUnit.SECONDS), "the first OTLP request reached the proxy");
        traces.subList(1, traces.size()).forEach(t -> outcomes.add(writer.write(t)));
        await(() -> writer.spansWaiting() == traces.size() - 1, "the other traces queue behind the held request");
        beforeRelease.run();
        held.countDown();
        return outcomes;
    }

    static WriteOutcome get(CompletableFuture<WriteOutcome> f) throws Exception {
        return f.get(60, TimeUnit.SECONDS);
    }

    static List<Trace> traces(int n) {
        List<Trace> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Fixtures.agentTrace(experimentId));
        }
        return out;
    }

    @Test
    void tracesFinishedWhileARequestIsInFlightShareTheNextAndReadBackLikeALoneTrace() throws Exception {
        MlflowTraceWriter writer = writer(Duration.ofSeconds(30));
        Trace lone = Fixtures.agentTrace(experimentId);
        assertTrue(get(writer.write(lone)).delivered());
        JsonNode loneBack = TraceReadBack.read(python, lone.info().traceId());
        assertAgentTrace(lone, loneBack);

        List<Trace> traces = traces(TRACES);
        for (CompletableFuture<WriteOutcome> f : writeBehindAHeldRequest(writer, traces, () -> { })) {
            WriteOutcome o = get(f);
            assertTrue(o.delivered(), o.reason());
        }

        assertEquals(List.of(200, 200, 200), proxy.otlpStatuses, "the lone trace, the held one, then all the others at once");
        for (Trace t : traces) {
            JsonNode back = TraceReadBack.read(python, t.info().traceId());
            assertAgentTrace(t, back);
            assertEquals(loneBack.get("request_preview"), back.get("request_preview"));
            assertEquals(loneBack.get("response_preview"), back.get("response_preview"));
            assertEquals(loneBack.get("metadata"), back.get("metadata"), "same metadata, token usage included");
            assertEquals(withoutTraceSpecific(loneBack.get("tags")), withoutTraceSpecific(back.get("tags")));
        }
    }

    @Test
    void aTraceMlflowRejectsFailsAloneAndTheOthersInItsBatchAreDelivered() throws Exception {
        MlflowTraceWriter writer = writer(Duration.ofSeconds(30));
        List<Trace> traces = traces(TRACES);
        Trace culprit = withRootAttribute(traces.get(TRACES / 2), MlflowKeys.Span.SESSION_ID, "s".repeat(300));
        traces.set(TRACES / 2, culprit);

        List<CompletableFuture<WriteOutcome>> outcomes = writeBehindAHeldRequest(writer, traces, () -> { });

        for (int i = 0; i < TRACES; i++) {
            WriteOutcome o = get(outcomes.get(i));
            if (traces.get(i) == culprit) {
                assertFalse(o.delivered(), "MLflow refuses a session id over 250 characters");
                assertFalse(o.retryable(), o.reason());
            } else {
                assertTrue(o.delivered(), "trace " + i + ": " + o.reason());
                assertAgentTrace(traces.get(i), TraceReadBack.read(python, traces.get(i).info().traceId()));
            }
        }
        assertEquals(200, proxy.otlpStatuses.get(0), "the held request");
        assertEquals(400, proxy.otlpStatuses.get(1), "the batch of the other seven, refused as a whole: " + proxy.otlpStatuses);
    }

    @Test
    void batchesRetriedAfterATimeoutLeaveTokenTotalsRight() throws Exception {
        MlflowTraceWriter writer = writer(Duration.ofSeconds(3));
        List<Trace> traces = traces(TRACES);
        CountDownLatch[] answers = new CountDownLatch[1];
        List<CompletableFuture<WriteOutcome>> outcomes = writeBehindAHeldRequest(writer, traces,
                () -> answers[0] = proxy.holdAnswers());
        for (CompletableFuture<WriteOutcome> f : outcomes) {
            WriteOutcome o = get(f);
            assertFalse(o.delivered(), "MLflow's answer never arrived in time");
            assertTrue(o.retryable(), o.reason());
        }
        assertEquals(List.of(200, 200), proxy.otlpStatuses, "MLflow stored both requests (one of seven traces)");
        answers[0].countDown();

        // as the spool drainer does: the same traces again, the batch of seven again together
        for (CompletableFuture<WriteOutcome> f : writeBehindAHeldRequest(writer, traces, () -> { })) {
            WriteOutcome o = get(f);
            assertTrue(o.delivered(), o.reason());
        }
        MlflowTracking direct = new MlflowTracking(MlflowRest.standalone(MlflowTarget.of(server.uri().toString())));
        for (Trace t : traces) {
            assertAgentTrace(t, TraceReadBack.read(python, t.info().traceId()));
            JsonNode rest = direct.getTraceInfo(t.info().traceId()).get(30, TimeUnit.SECONDS).orElseThrow();
            JsonNode usage = JsonValues.parse(rest.get("trace_metadata").get(MlflowKeys.Metadata.TOKEN_USAGE).asText());
            assertEquals(46, usage.get("total_tokens").asInt(), "counted once: " + usage);
            assertEquals(34, usage.get("input_tokens").asInt(), "counted once: " + usage);
        }
    }

    /** Tags that name the trace itself (its artifact location). */
    static Map<String, String> withoutTraceSpecific(JsonNode tags) {
        Map<String, String> out = new LinkedHashMap<>();
        tags.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        out.remove(MlflowKeys.Tag.ARTIFACT_LOCATION);
        return out;
    }

    static Trace withRootAttribute(Trace trace, String key, Object value) {
        List<SpanData> spans = new ArrayList<>();
        for (SpanData s : trace.spans()) {
            if (s.isRoot()) {
                Map<String, Object> attrs = new LinkedHashMap<>(s.attributes());
                attrs.put(key, value);
                s = new SpanData(s.traceId(), s.spanId(), s.parentSpanId(), s.name(), s.startTimeUnixNano(),
                        s.endTimeUnixNano(), s.status(), attrs, s.events());
            }
            spans.add(s);
        }
        return new Trace(trace.info(), spans);
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within 30 s: " + what);
            }
            Thread.sleep(10);
        }
    }
}
