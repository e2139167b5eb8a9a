package dev.agentfn.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.MlflowApi.CreateRun;
import dev.agentfn.mlflow.MlflowApi.DatasetRecordPage;
import dev.agentfn.mlflow.MlflowApi.EvaluationDataset;
import dev.agentfn.mlflow.MlflowApi.EvaluationDatasetPage;
import dev.agentfn.mlflow.MlflowApi.Experiment;
import dev.agentfn.mlflow.MlflowApi.GetDatasetRecords;
import dev.agentfn.mlflow.MlflowApi.LinkTracesToRun;
import dev.agentfn.mlflow.MlflowApi.LogBatch;
import dev.agentfn.mlflow.MlflowApi.Metric;
import dev.agentfn.mlflow.MlflowApi.NewAssessment;
import dev.agentfn.mlflow.MlflowApi.Run;
import dev.agentfn.mlflow.MlflowApi.RunStatus;
import dev.agentfn.mlflow.MlflowApi.SearchEvaluationDatasets;
import dev.agentfn.mlflow.MlflowApi.SearchTraces;
import dev.agentfn.mlflow.MlflowApi.TracePage;
import dev.agentfn.mlflow.MlflowApi.UpdateRun;
import dev.agentfn.mlflow.json.JsonValues;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * MLflow's tracking side as evaluation and the CLI use it: experiments, runs (metrics, params, tags, dataset
 * inputs), assessments, evaluation datasets, and reading, tagging, searching and deleting stored traces.
 * Futures complete exceptionally with {@link MlflowClientException}; lookups answer "not found" as empty.
 */
public final class MlflowTracking {
    private final MlflowRest rest;

    public MlflowTracking(MlflowRest rest) {
        this.rest = rest;
    }

    public MlflowTarget target() {
        return rest.target();
    }

    /** The transport, for the package's other tracking-side clients ({@link LoggedModels}, {@link PromptRegistry}). */
    MlflowRest rest() {
        return rest;
    }

    // ---- Experiments ---------------------------------------------------------------------------

    /** Empty when no experiment has that name. */
    public CompletableFuture<Optional<Experiment>> getExperimentByName(String name) {
        return rest.find("/api/2.0/mlflow/experiments/get-by-name?experiment_name=" + MlflowRest.encodeQuery(name))
                .thenApply(json -> json.map(Experiment::fromJson));
    }

    /**
     * Creates the experiment and returns its id. If another process created it first, returns
     * that one's id instead.
     */
    public CompletableFuture<String> createExperiment(String name) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode().put("name", name);
        return rest.call("POST", "/api/2.0/mlflow/experiments/create", body)
                .thenApply(json -> json.path("experiment_id").asText())
                .handle((id, t) -> {
                    if (t == null) {
                        return CompletableFuture.completedFuture(id);
                    }
                    MlflowClientException e = MlflowRest.asClientException(t, "POST experiments/create");
                    if (!"RESOURCE_ALREADY_EXISTS".equals(e.errorCode())) {
                        return CompletableFuture.<String>failedFuture(e);
                    }
                    return getExperimentByName(name).thenApply(found -> found
                            .filter(x -> !"deleted".equals(x.lifecycleStage()))
                            .map(Experiment::experimentId)
                            .orElseThrow(() -> new MlflowClientException("experiment '" + name
                                    + "' exists but is deleted or unreadable", e.status(), e.errorCode(), false, e)));
                })
                .thenCompose(Function.identity());
    }

    // ---- Runs and assessments (thin) -------------------------------------------------------------

    public CompletableFuture<Run> createRun(String experimentId, String runName, Map<String, String> tags) {
        CreateRun req = new CreateRun(experimentId, runName, System.currentTimeMillis(), tags);
        return rest.call("POST", "/api/2.0/mlflow/runs/create", req.toJson()).thenApply(Run::fromJson);
    }

    public CompletableFuture<Void> updateRun(String runId, RunStatus status, Long endTimeMillis) {
        return rest.call("POST", "/api/2.0/mlflow/runs/update", new UpdateRun(runId, status, endTimeMillis).toJson())
                .thenApply(json -> null);
    }

    /** Splits into as many calls as MLflow's per-call limits require, sent one after another. */
    public CompletableFuture<Void> logBatch(String runId, List<Metric> metrics, Map<String, String> params,
            Map<String, String> tags) {
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (LogBatch batch : new LogBatch(runId, metrics, params, tags).split()) {
            chain = chain.thenCompose(v -> rest.call("POST", "/api/2.0/mlflow/runs/log-batch", batch.toJson())
                    .thenApply(json -> null));
        }
        return chain;
    }

    /** Links in chunks of 100 (MLflow's limit). SQL stores only. */
    public CompletableFuture<Void> linkTracesToRun(String runId, List<String> traceIds) {
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (int i = 0; i < traceIds.size(); i += LinkTracesToRun.MAX_TRACE_IDS) {
            LinkTracesToRun req = new LinkTracesToRun(runId,
                    traceIds.subList(i, Math.min(traceIds.size(), i + LinkTracesToRun.MAX_TRACE_IDS)));
            chain = chain.thenCompose(v -> rest.call("POST", "/api/2.0/mlflow/traces/link-to-run", req.toJson())
                    .thenApply(json -> null));
        }
        return chain;
    }

    /** Returns the new assessment's id ({@code a-…}). */
    public CompletableFuture<String> createAssessment(NewAssessment assessment) {
        String path = "/api/3.0/mlflow/traces/" + MlflowRest.encodeSegment(assessment.traceId()) + "/assessments";
        return rest.call("POST", path, assessment.toJson())
                .thenApply(json -> json.path("assessment").path("assessment_id").asText());
    }

    /**
     * The id of an assessment already on the trace with the same name, source and metadata, if any. A
     * create that timed out may have been stored anyway; looking first keeps a retry from adding a twin.
     */
    public CompletableFuture<Optional<String>> findAssessment(NewAssessment wanted) {
        return getTraceInfo(wanted.traceId()).thenApply(info -> info.flatMap(i -> {
            for (JsonNode a : i.path("assessments")) {
                if (sameAssessment(a, wanted)) {
                    return Optional.of(a.path("assessment_id").asText());
                }
            }
            return Optional.empty();
        }));
    }

    private static boolean sameAssessment(JsonNode stored, NewAssessment wanted) {
        if (!stored.path("assessment_name").asText().equals(wanted.name())
                || !stored.path("source").path("source_id").asText()
                        .equals(wanted.sourceId() == null ? "agentfn" : wanted.sourceId())) {
            return false;
        }
        JsonNode metadata = stored.path("metadata");
        return wanted.metadata().entrySet().stream()
                .allMatch(e -> e.getValue().equals(metadata.path(e.getKey()).asText(null)));
    }

    public CompletableFuture<TracePage> searchTraces(String experimentId, String filter, int maxResults,
            String pageToken) {
        SearchTraces req = new SearchTraces(experimentId, filter, maxResults, pageToken);
        return rest.call("POST", "/api/3.0/mlflow/traces/search", req.toJson()).thenApply(TracePage::fromJson);
    }

    /** {@code POST /api/2.0/mlflow/runs/search}: runs (JSON, tags included) of one experiment matching the filter. */
    public CompletableFuture<List<JsonNode>> searchRuns(String experimentId, String filter, int maxResults) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode();
        body.putArray("experiment_ids").add(experimentId);
        body.put("filter", filter).put("max_results", maxResults);
        return rest.call("POST", "/api/2.0/mlflow/runs/search", body).thenApply(json -> {
            List<JsonNode> runs = new ArrayList<>();
            json.path("runs").forEach(runs::add);
            return runs;
        });
    }

    /**
     * {@code POST /api/2.0/mlflow/runs/log-inputs}: one dataset as the run's input, as {@code mlflow.log_input}
     * records it (name, digest, source type and source JSON, profile JSON).
     */
    public CompletableFuture<Void> logDatasetInput(String runId, String name, String digest, String sourceType,
            String source, String profile) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode().put("run_id", runId);
        ObjectNode input = body.putArray("datasets").addObject();
        input.putArray("tags");
        input.putObject("dataset").put("name", name).put("digest", digest).put("source_type", sourceType)
                .put("source", source).put("profile", profile);
        return rest.call("POST", "/api/2.0/mlflow/runs/log-inputs", body).thenApply(json -> null);
    }

    /** {@code GET /api/3.0/mlflow/datasets/{dataset_id}}: the evaluation dataset, or empty if unknown. */
    public CompletableFuture<Optional<EvaluationDataset>> getEvaluationDataset(String datasetId) {
        return rest.find("/api/3.0/mlflow/datasets/" + MlflowRest.encodeSegment(datasetId))
                .thenApply(json -> json.map(j -> EvaluationDataset.fromJson(j.path("dataset"))));
    }

    /** {@code POST /api/3.0/mlflow/datasets/search}: evaluation datasets named exactly {@code name}. */
    public CompletableFuture<EvaluationDatasetPage> searchEvaluationDatasets(String name, int maxResults) {
        return rest.call("POST", "/api/3.0/mlflow/datasets/search", new SearchEvaluationDatasets(name, maxResults).toJson())
                .thenApply(EvaluationDatasetPage::fromJson);
    }

    /** {@code GET /api/3.0/mlflow/datasets/{dataset_id}/records}: one page of records. */
    public CompletableFuture<DatasetRecordPage> getDatasetRecords(String datasetId, int maxResults, String pageToken) {
        GetDatasetRecords req = new GetDatasetRecords(datasetId, maxResults, pageToken);
        return rest.call("GET", req.pathAndQuery(MlflowRest::encodeQuery), null).thenApply(DatasetRecordPage::fromJson);
    }

    /** {@code GET /api/2.0/mlflow/runs/get}: the run JSON ({@code info}, {@code data} with tags and params). */
    public CompletableFuture<JsonNode> getRun(String runId) {
        return rest.call("GET", "/api/2.0/mlflow/runs/get?run_id=" + MlflowRest.encodeSegment(runId), null)
                .thenApply(json -> json.path("run"));
    }

    /** {@code PATCH /api/3.0/mlflow/traces/{trace_id}/tags}: sets one tag on a stored trace. */
    public CompletableFuture<Void> setTraceTag(String traceId, String key, String value) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode().put("key", key).put("value", value);
        return rest.call("PATCH", "/api/3.0/mlflow/traces/" + MlflowRest.encodeSegment(traceId) + "/tags", body)
                .thenApply(json -> null);
    }

    /** {@code POST /api/2.0/mlflow/traces/delete-traces} for the given ids; completes with the number deleted. */
    public CompletableFuture<Integer> deleteTraces(String experimentId, List<String> traceIds) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode().put("experiment_id", experimentId);
        traceIds.forEach(body.putArray("request_ids")::add);
        return rest.call("POST", "/api/2.0/mlflow/traces/delete-traces", body)
                .thenApply(json -> json.path("traces_deleted").asInt());
    }

    /**
     * {@code GET /api/3.0/mlflow/traces/get}: the whole trace ({@code trace_info} and OTLP-shaped
     * {@code spans}) when MLflow keeps spans in its tracking store; empty if unknown.
     */
    public CompletableFuture<Optional<JsonNode>> getTrace(String traceId) {
        return rest.find("/api/3.0/mlflow/traces/get?trace_id=" + MlflowRest.encodeSegment(traceId))
                .thenApply(json -> json.map(j -> j.path("trace")));
    }

    /** The {@code trace_info} JSON (assessments included), or empty if the trace is unknown. */
    public CompletableFuture<Optional<JsonNode>> getTraceInfo(String traceId) {
        return rest.find(MlflowApi.traceInfoPath(traceId)).thenApply(json -> json.map(MlflowApi::traceInfoOf));
    }
}
