package dev.agentfn.mlflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.MlflowApi.AssessmentKind;
import dev.agentfn.mlflow.MlflowApi.Metric;
import dev.agentfn.mlflow.MlflowApi.NewAssessment;
import dev.agentfn.mlflow.MlflowApi.OtlpExportResult;
import dev.agentfn.mlflow.MlflowApi.Run;
import dev.agentfn.mlflow.MlflowApi.RunStatus;
import dev.agentfn.mlflow.MlflowApi.TracePage;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.json.JsonValues;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import dev.agentfn.testing.MlflowServerResource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The thin REST methods, against a real SQLite-backed server. */
class MlflowClientsTest {
    static MlflowServer server;
    static MlflowTraceClient traces;
    static MlflowTracking tracking;
    static MlflowPython python;
    static String experimentId;

    @BeforeAll
    static void startServer() {
        server = MlflowServerResource.server();
        server.start();
        experimentId = server.createExperiment("client-" + UUID.randomUUID());
        MlflowRest rest = MlflowRest.standalone(MlflowTarget.of(server.uri().toString()));
        traces = new MlflowTraceClient(rest);
        tracking = new MlflowTracking(rest);
        python = new MlflowPython(server);
    }

    static <T> T get(Future<T> f) throws Exception {
        return f.get(60, TimeUnit.SECONDS);
    }

    static MlflowClientException failure(Future<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(60, TimeUnit.SECONDS));
        return MlflowRest.asClientException(e, "test");
    }

    @Test
    void experimentsByNameAndCreateRaces() throws Exception {
        String name = "exp-" + UUID.randomUUID();
        assertTrue(get(tracking.getExperimentByName(name)).isEmpty());
        List<CompletableFuture<String>> racing = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            racing.add(tracking.createExperiment(name));
        }
        Set<String> ids = new HashSet<>();
        for (CompletableFuture<String> f : racing) {
            ids.add(get(f));
        }
        assertEquals(1, ids.size(), "every racer gets the same experiment");
        MlflowApi.Experiment found = get(tracking.getExperimentByName(name)).orElseThrow();
        assertEquals(ids.iterator().next(), found.experimentId());
        assertEquals("active", found.lifecycleStage());
        assertEquals(found.experimentId(), get(tracking.createExperiment(name)));
    }

    @Test
    void runsBatchesAndLinks() throws Exception {
        Run run = get(tracking.createRun(experimentId, "eval-run", Map.of("agentfn.kind", "eval")));
        assertEquals(experimentId, run.experimentId());
        assertEquals("RUNNING", run.status());
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < 250; i++) {
            params.put("p" + i, "v" + i);
        }
        long now = System.currentTimeMillis();
        get(tracking.logBatch(run.runId(), List.of(new Metric("score", 0.5, now, 0), new Metric("score", 0.75, now, 1)),
                params, Map.of("t", "1")));
        List<String> traceIds = new ArrayList<>();
        MlflowTraceWriter writer = new MlflowTraceWriter(traces);
        for (int i = 0; i < 3; i++) {
            Trace t = Fixtures.agentTrace(experimentId);
            assertTrue(get(writer.write(t)).delivered());
            traceIds.add(t.info().traceId());
        }
        get(tracking.linkTracesToRun(run.runId(), traceIds));
        get(tracking.updateRun(run.runId(), RunStatus.FINISHED, System.currentTimeMillis()));
        JsonNode back = python.json("""
                import json, mlflow
                r = mlflow.get_run("%s")
                traces = mlflow.search_traces(locations=["%s"], run_id="%s", return_type="list")
                print(json.dumps({"status": r.info.status, "params": len(r.data.params),
                    "score": r.data.metrics["score"], "tag": r.data.tags.get("t"),
                    "traces": sorted(t.info.trace_id for t in traces)}))
                """.formatted(run.runId(), experimentId, run.runId()));
        assertEquals("FINISHED", back.get("status").asText());
        assertEquals(250, back.get("params").asInt());
        assertEquals(0.75, back.get("score").asDouble());
        assertEquals("1", back.get("tag").asText());
        assertEquals(traceIds.stream().sorted().toList(), JsonValues.MAPPER.convertValue(back.get("traces"), List.class));
    }

    @Test
    void otlpRunIdHeaderLinksTheTrace() throws Exception {
        Run run = get(tracking.createRun(experimentId, "otlp-link", Map.of()));
        Trace t = Fixtures.agentTrace(experimentId);
        assertEquals(OtlpExportResult.Outcome.OK, get(traces.logSpansOtlp(experimentId, run.runId(), t.spans())).outcome());
        JsonNode back = python.json("""
                import json, mlflow
                print(json.dumps([t.info.trace_id for t in mlflow.search_traces(locations=["%s"], run_id="%s", return_type="list")]))
                """.formatted(experimentId, run.runId()));
        assertEquals(1, back.size());
        assertEquals(t.info().traceId(), back.get(0).asText());
    }

    @Test
    void resentOtlpBatchBeforeStartTraceDoesNotDoubleTokens() throws Exception {
        Trace t = Fixtures.agentTrace(experimentId);
        for (int i = 0; i < 3; i++) {
            assertEquals(OtlpExportResult.Outcome.OK, get(traces.logSpansOtlp(experimentId, null, t.spans())).outcome());
        }
        JsonNode info = get(tracking.getTraceInfo(t.info().traceId())).orElseThrow();
        JsonNode usage = JsonValues.parse(info.get("trace_metadata").get(MlflowKeys.Metadata.TOKEN_USAGE).asText());
        assertEquals(46, usage.get("total_tokens").asInt(), "3.17.2 recomputes instead of adding");
        assertEquals("OK", info.get("state").asText());
        assertFalse(info.get("trace_metadata").has(MlflowKeys.Metadata.INFO_FINALIZED));
    }

    @Test
    void smallBatchGoesUncompressedAndLeavesTheTraceInProgressWithoutRoot() throws Exception {
        String traceId = Fixtures.hex(16);
        dev.agentfn.mlflow.entities.SpanData child = new dev.agentfn.mlflow.entities.SpanData(traceId, Fixtures.hex(8),
                Fixtures.hex(8), "orphan", 1_000, 2_000, dev.agentfn.mlflow.entities.SpanStatus.OK,
                Map.of(MlflowKeys.Span.TYPE, "TOOL"), List.of());
        assertEquals(OtlpExportResult.Outcome.OK, get(traces.logSpansOtlp(experimentId, null, List.of(child))).outcome());
        JsonNode info = get(tracking.getTraceInfo("tr-" + traceId)).orElseThrow();
        assertEquals("IN_PROGRESS", info.get("state").asText(), "no root span yet");
    }

    @Test
    void otlpErrorsAreFailuresNotUnsupported() throws Exception {
        Trace t = Fixtures.agentTrace(experimentId);
        OtlpExportResult unknown = get(traces.logSpansOtlp("987654321", null, t.spans()));
        assertEquals(OtlpExportResult.Outcome.FAILED, unknown.outcome());
        assertEquals(404, unknown.status());
        assertTrue(unknown.message().contains("RESOURCE_DOES_NOT_EXIST"), unknown.message());
        assertFalse(unknown.retryable());
        OtlpExportResult notNumeric = get(traces.logSpansOtlp("abc", null, t.spans()));
        assertEquals(400, notNumeric.status());
        assertTrue(notNumeric.message().contains("INVALID_PARAMETER_VALUE"), notNumeric.message());
    }

    @Test
    void anAssessmentAlreadyStoredIsFoundByNameSourceAndMetadataSoARetryAddsNoTwin() throws Exception {
        Trace t = Fixtures.agentTrace(experimentId);
        assertTrue(get(new MlflowTraceWriter(traces).write(t)).delivered());
        String traceId = t.info().traceId();
        NewAssessment posted = new NewAssessment(traceId, "relevance", AssessmentKind.FEEDBACK, "yes", "LLM_JUDGE",
                "anthropic:/claude-judge", "on topic", Map.of("mlflow.assessment.sourceRunId", "run-a"), null);
        String id = get(tracking.createAssessment(posted));

        assertEquals(java.util.Optional.of(id), get(tracking.findAssessment(posted)));
        assertEquals(java.util.Optional.empty(), get(tracking.findAssessment(new NewAssessment(traceId, "relevance",
                AssessmentKind.FEEDBACK, "yes", "LLM_JUDGE", "anthropic:/claude-judge", "on topic",
                Map.of("mlflow.assessment.sourceRunId", "run-b"), null))), "another run's assessment is not this one");
        assertEquals(java.util.Optional.empty(), get(tracking.findAssessment(new NewAssessment(traceId, "safety",
                AssessmentKind.FEEDBACK, "yes", "LLM_JUDGE", "anthropic:/claude-judge", null,
                Map.of("mlflow.assessment.sourceRunId", "run-a"), null))));
        assertEquals(java.util.Optional.empty(), get(tracking.findAssessment(new NewAssessment("tr-" + Fixtures.hex(16),
                "relevance", AssessmentKind.FEEDBACK, "yes", null, null, null, Map.of(), null))), "unknown trace");
    }

    @Test
    void assessmentsSearchAndTraceInfo() throws Exception {
        Trace t = Fixtures.agentTrace(experimentId, Map.of(MlflowKeys.Metadata.SESSION, "search-" + UUID.randomUUID()));
        assertTrue(get(new MlflowTraceWriter(traces).write(t)).delivered());
        String traceId = t.info().traceId();
        String feedback = get(tracking.createAssessment(new NewAssessment(traceId, "correct", AssessmentKind.FEEDBACK,
                true, "LLM_JUDGE", "judge-1", "looks right", Map.of("k", "v"), null)));
        assertTrue(feedback.startsWith("a-"), feedback);
        get(tracking.createAssessment(new NewAssessment(traceId, "expected_answer", AssessmentKind.EXPECTATION,
                Map.of("answer", "4"), "HUMAN", "tester", null, null, t.spans().get(1).spanId())));
        JsonNode back = python.json("""
                import json, mlflow
                t = mlflow.get_trace("%s")
                print(json.dumps({a.name: {"value": a.value, "source": a.source.source_type,
                    "rationale": getattr(a, "rationale", None), "span_id": a.span_id} for a in t.info.assessments}))
                """.formatted(traceId));
        assertTrue(back.get("correct").get("value").asBoolean());
        assertEquals("LLM_JUDGE", back.get("correct").get("source").asText());
        assertEquals("looks right", back.get("correct").get("rationale").asText());
        assertEquals("4", back.get("expected_answer").get("value").get("answer").asText());
        assertEquals(t.spans().get(1).spanId(), back.get("expected_answer").get("span_id").asText());

        String session = t.info().metadata().get(MlflowKeys.Metadata.SESSION);
        TracePage page = get(tracking.searchTraces(experimentId, "metadata.`mlflow.trace.session` = '" + session + "'", 10, null));
        assertEquals(1, page.traceInfos().size());
        assertEquals(traceId, page.traceInfos().get(0).get("trace_id").asText());
        assertNull(page.nextPageToken());
        TracePage first = get(tracking.searchTraces(experimentId, null, 1, null));
        assertEquals(1, first.traceInfos().size());
        assertNotNull(first.nextPageToken());
        TracePage second = get(tracking.searchTraces(experimentId, null, 1, first.nextPageToken()));
        assertFalse(first.traceInfos().get(0).get("trace_id").equals(second.traceInfos().get(0).get("trace_id")));

        JsonNode info = get(tracking.getTraceInfo(traceId)).orElseThrow();
        assertEquals(2, info.get("assessments").size());
        assertTrue(get(tracking.getTraceInfo("tr-" + Fixtures.hex(16))).isEmpty());
    }

    @Test
    void startTraceReturnsServerTags() throws Exception {
        Trace t = Fixtures.agentTrace(experimentId);
        MlflowApi.StartTraceResult r = get(traces.startTraceV3(TraceInfoCompleter.complete(t)));
        assertEquals("mlflow-artifacts:/" + experimentId + "/traces/" + t.info().traceId() + "/artifacts",
                r.artifactLocation());
        assertFalse(r.spansInTrackingStore(), "no spans logged yet");
        assertEquals("true", r.stored().metadata().get(MlflowKeys.Metadata.INFO_FINALIZED));
        assertEquals(t.info().traceId(), r.stored().traceId());
    }

    @Test
    void uploadRefusesArtifactLocationsTheServerDoesNotProxy() {
        MlflowClientException e = failure(traces.uploadTracesJson("s3://bucket/x", "tr-1", List.of()));
        assertFalse(e.retryable());
        assertTrue(e.getMessage().contains("mlflow-artifacts"), e.getMessage());
        assertEquals("/1/traces/tr-a%20b/artifacts", MlflowTraceClient.artifactPath("mlflow-artifacts:/1/traces/tr-a%20b/artifacts"));
        assertEquals("/7/x", MlflowTraceClient.artifactPath("mlflow-artifacts://host:5000/7/x"));
    }

    @Test
    void unknownRestFailuresCarryStatusAndCode() {
        MlflowClientException e = failure(tracking.updateRun("no-such-run", RunStatus.FAILED, null));
        assertEquals(404, e.status());
        assertEquals("RESOURCE_DOES_NOT_EXIST", e.errorCode());
        assertFalse(e.retryable());
        assertTrue(e.getMessage().startsWith("POST /api/2.0/mlflow/runs/update -> 404"), e.getMessage());
    }
}
