package dev.agentfn.mlflow;

import dev.agentfn.Futures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.MlflowApi.CreateRun;
import dev.agentfn.mlflow.MlflowApi.DatasetRecordPage;
import dev.agentfn.mlflow.MlflowApi.EvaluationDataset;
import dev.agentfn.mlflow.MlflowApi.EvaluationDatasetPage;
import dev.agentfn.mlflow.MlflowApi.GetDatasetRecords;
import dev.agentfn.mlflow.MlflowApi.SearchEvaluationDatasets;
import dev.agentfn.mlflow.MlflowApi.Experiment;
import dev.agentfn.mlflow.MlflowApi.LinkTracesToRun;
import dev.agentfn.mlflow.MlflowApi.LogBatch;
import dev.agentfn.mlflow.MlflowApi.Metric;
import dev.agentfn.mlflow.MlflowApi.NewAssessment;
import dev.agentfn.mlflow.MlflowApi.OtlpExportResult;
import dev.agentfn.mlflow.MlflowApi.Run;
import dev.agentfn.mlflow.MlflowApi.RunStatus;
import dev.agentfn.mlflow.MlflowApi.SearchTraces;
import dev.agentfn.mlflow.MlflowApi.StartTraceResult;
import dev.agentfn.mlflow.MlflowApi.TracePage;
import dev.agentfn.mlflow.MlflowApi.UpdateRun;
import dev.agentfn.mlflow.MlflowApi.UploadCredential;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.json.JsonValues;
import dev.agentfn.mlflow.json.TraceInfoJson;
import dev.agentfn.mlflow.json.TracesJson;
import dev.agentfn.mlflow.otlp.OtlpProtobufEncoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.zip.GZIPOutputStream;

/**
 * Asynchronous client for the MLflow endpoints agentfn uses: OTLP span ingest, V3 traces,
 * trace artifacts, Databricks signed uploads, experiments, runs and assessments.
 *
 * <p>REST methods complete exceptionally with {@link MlflowClientException} on an error status
 * or when the server cannot be reached; {@link #logSpansOtlp} instead reports every outcome in
 * its result, because "unsupported" is an expected answer that selects the fallback path.
 */
public final class MlflowClient {
    private static final String USER_AGENT = "agentfn-mlflow-client";
    private static final String JSON = "application/json";
    private static final int GZIP_THRESHOLD_BYTES = 1024;
    private static final String ARTIFACTS_SCHEME = "mlflow-artifacts";

    private final MlflowTarget target;
    private final MlflowHttp http;
    private final OtlpProtobufEncoder encoder = new OtlpProtobufEncoder();
    private final Map<String, String> resourceAttributes;
    private final String scopeName;

    /** A client on a Vert.x instance of its own (tests, tools); the application passes its own transport. */
    public MlflowClient(MlflowTarget target) {
        this(target, MlflowHttp.standalone());
    }

    public MlflowClient(MlflowTarget target, MlflowHttp http) {
        this(target, http, Map.of("service.name", "agentfn"), "agentfn");
    }

    /**
     * @param resourceAttributes OTLP resource attributes of every export (e.g. service.name)
     * @param scopeName OTLP instrumentation scope name
     */
    public MlflowClient(MlflowTarget target, MlflowHttp http, Map<String, String> resourceAttributes, String scopeName) {
        this.target = target;
        this.http = http;
        this.resourceAttributes = Map.copyOf(resourceAttributes);
        this.scopeName = scopeName;
    }

    public MlflowTarget target() {
        return target;
    }

    // ---- Traces ------------------------------------------------------------------------------

    /**
     * {@code POST /v1/traces} with the spans as OTLP protobuf.
     *
     * @param runId nullable; sent as {@code x-mlflow-run-id}, which links traces whose root span
     *     is in the batch to the run
     * @return never completes exceptionally except for invalid span ids
     */
    public CompletableFuture<OtlpExportResult> logSpansOtlp(String experimentId, String runId, List<SpanData> spans) {
        byte[] body;
        try {
            body = encoder.encode(spans, resourceAttributes, scopeName);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        Map<String, String> h = headers();
        h.put("Content-Type", "application/x-protobuf");
        h.put(MlflowKeys.Header.EXPERIMENT_ID, experimentId);
        if (runId != null && !runId.isBlank()) {
            h.put(MlflowKeys.Header.RUN_ID, runId);
        }
        if (body.length > GZIP_THRESHOLD_BYTES) {
            h.put("Content-Encoding", "gzip");
            body = gzip(body);
        }
        String what = "POST /v1/traces";
        return send("POST", url("/v1/traces"), h, body, what)
                .thenApply(r -> otlpResult(r, what))
                .exceptionally(t -> {
                    MlflowClientException e = asClientException(t, what);
                    return OtlpExportResult.failed(e.status(), e.getMessage());
                });
    }

    private static OtlpExportResult otlpResult(MlflowHttp.Response r, String what) {
        int status = r.status();
        if (status / 100 == 2) {
            return OtlpExportResult.ok();
        }
        ErrorBody err = ErrorBody.of(r.body());
        String message = what + " -> " + status + err.describe();
        // A 404 carrying an MLflow error_code is a real answer (unknown experiment); a bare 404
        // means the route does not exist on this server (older MLflow, Flask-only deployment).
        boolean missingRoute = status == 404 && err.errorCode() == null;
        if (status == 501 || missingRoute) {
            return OtlpExportResult.unsupported(status, message);
        }
        return OtlpExportResult.failed(status, message);
    }

    /** StartTraceV3: creates or finalizes the trace's info. Upsert, so a retry is safe. */
    public CompletableFuture<StartTraceResult> startTraceV3(TraceInfo info) {
        return call("POST", "/api/3.0/mlflow/traces", TraceInfoJson.startTraceBody(info))
                .thenApply(json -> new StartTraceResult(TraceInfoJson.parseTraceResponse(json)));
    }

    /**
     * Uploads {@code traces.json} through the tracking server's artifact proxy.
     *
     * @param artifactLocation the trace's {@code mlflow.artifactLocation} tag, which must use the
     *     {@code mlflow-artifacts:} scheme (a server started with artifact serving)
     */
    public CompletableFuture<Void> uploadTracesJson(String artifactLocation, String traceId, List<SpanData> spans) {
        String what = "PUT traces.json of " + traceId;
        String path;
        byte[] body;
        try {
            path = "/api/2.0/mlflow-artifacts/artifacts" + artifactPath(artifactLocation) + "/traces.json";
            body = TracesJson.encode(spans);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new MlflowClientException(
                    what + ": " + e.getMessage(), MlflowClientException.NO_RESPONSE, null, false, e));
        }
        Map<String, String> h = headers();
        h.put("Content-Type", JSON);
        return send("PUT", url(path), h, body, what).thenApply(r -> {
            requireSuccess(r, what);
            return null;
        });
    }

    /** The path inside the artifact proxy, e.g. {@code /1/traces/tr-…/artifacts}. */
    static String artifactPath(String artifactLocation) {
        if (artifactLocation == null || artifactLocation.isBlank()) {
            throw new IllegalArgumentException("the trace has no artifact location");
        }
        URI uri = URI.create(artifactLocation);
        if (!ARTIFACTS_SCHEME.equals(uri.getScheme())) {
            throw new IllegalArgumentException("artifact location scheme '" + uri.getScheme()
                    + "' is not served by the tracking server; only mlflow-artifacts: is supported");
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        StringBuilder out = new StringBuilder();
        for (String segment : path.split("/")) {
            if (!segment.isEmpty()) {
                out.append('/').append(encodeSegment(segment));
            }
        }
        return out.toString();
    }

    // ---- Databricks ----------------------------------------------------------------------------

    public CompletableFuture<UploadCredential> getTraceUploadCredential(String traceId) {
        String path = "/api/2.0/mlflow/traces/" + encodeSegment(traceId) + "/credentials-for-data-upload";
        return call("GET", path, null).thenApply(UploadCredential::fromJson);
    }

    /** Databricks path: fetch a signed URL for the trace and upload {@code traces.json} to it. */
    public CompletableFuture<Void> uploadTracesDatabricks(String traceId, List<SpanData> spans) {
        byte[] body;
        try {
            body = TracesJson.encode(spans);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return getTraceUploadCredential(traceId).thenCompose(cred -> uploadSigned(cred, body));
    }

    /**
     * Uploads to cloud storage the way MLflow's TS client does: AWS/GCP a plain PUT, Azure Blob a
     * PUT with {@code x-ms-blob-type: BlockBlob}, ADLS Gen2 create + append + flush. The MLflow
     * credentials are never sent there; the signed URI never appears in error messages.
     */
    public CompletableFuture<Void> uploadSigned(UploadCredential cred, byte[] body) {
        String what = "signed upload (" + cred.type() + ")";
        return switch (cred.type()) {
            case UploadCredential.AWS, UploadCredential.GCP ->
                    signedStep(cred, cred.signedUri(), "PUT", body, JSON, Map.of(), what);
            case UploadCredential.AZURE_BLOB ->
                    signedStep(cred, cred.signedUri(), "PUT", body, JSON, Map.of("x-ms-blob-type", "BlockBlob"), what);
            case UploadCredential.AZURE_ADLS_GEN2 -> uploadAdlsGen2(cred, body, what);
            default -> CompletableFuture.failedFuture(new MlflowClientException(
                    "unsupported upload credential type: " + cred.type(), MlflowClientException.NO_RESPONSE, null,
                    false, null));
        };
    }

    private CompletableFuture<Void> uploadAdlsGen2(UploadCredential cred, byte[] body, String what) {
        String uri = cred.signedUri();
        String sep = uri.contains("?") ? "&" : "?";
        return signedStep(cred, uri + sep + "resource=file", "PUT", new byte[0], null, Map.of(), what + " create")
                .thenCompose(v -> signedStep(cred, uri + sep + "action=append&position=0", "PATCH", body,
                        "application/octet-stream", Map.of(), what + " append"))
                .thenCompose(v -> signedStep(cred, uri + sep + "action=flush&position=" + body.length, "PATCH",
                        new byte[0], null, Map.of(), what + " flush"));
    }

    private CompletableFuture<Void> signedStep(UploadCredential cred, String uri, String method, byte[] body,
            String contentType, Map<String, String> extraHeaders, String what) {
        // the signed URL carries its own authorization: none of the tracking server's headers go along
        Map<String, String> h = new LinkedHashMap<>(cred.headers());
        h.putAll(extraHeaders);
        if (contentType != null) {
            h.put("Content-Type", contentType);
        }
        return send(method, uri, h, body, what).thenApply(r -> {
            if (r.status() / 100 != 2) {
                // Cloud error bodies can echo signature material: report the status only.
                throw MlflowClientException.fromStatus(what + " -> " + r.status(), r.status(), null);
            }
            return null;
        });
    }

    // ---- Experiments ---------------------------------------------------------------------------

    /** Empty when no experiment has that name. */
    public CompletableFuture<Optional<Experiment>> getExperimentByName(String name) {
        String path = "/api/2.0/mlflow/experiments/get-by-name?experiment_name=" + encodeQuery(name);
        return call("GET", path, null)
                .thenApply(json -> Optional.of(Experiment.fromJson(json)))
                .exceptionally(t -> {
                    MlflowClientException e = asClientException(t, "GET experiment by name");
                    if (isNotFound(e)) {
                        return Optional.empty();
                    }
                    throw e;
                });
    }

    /**
     * Creates the experiment and returns its id. If another process created it first, returns
     * that one's id instead.
     */
    public CompletableFuture<String> createExperiment(String name) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode().put("name", name);
        return call("POST", "/api/2.0/mlflow/experiments/create", body)
                .thenApply(json -> json.path("experiment_id").asText())
                .handle((id, t) -> {
                    if (t == null) {
                        return CompletableFuture.completedFuture(id);
                    }
                    MlflowClientException e = asClientException(t, "POST experiments/create");
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
        return call("POST", "/api/2.0/mlflow/runs/create", req.toJson()).thenApply(Run::fromJson);
    }

    public CompletableFuture<Void> updateRun(String runId, RunStatus status, Long endTimeMillis) {
        return call("POST", "/api/2.0/mlflow/runs/update", new UpdateRun(runId, status, endTimeMillis).toJson())
                .thenApply(json -> null);
    }

    /** Splits into as many calls as MLflow's per-call limits require, sent one after another. */
    public CompletableFuture<Void> logBatch(String runId, List<Metric> metrics, Map<String, String> params,
            Map<String, String> tags) {
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (LogBatch batch : new LogBatch(runId, metrics, params, tags).split()) {
            chain = chain.thenCompose(v -> call("POST", "/api/2.0/mlflow/runs/log-batch", batch.toJson())
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
            chain = chain.thenCompose(v -> call("POST", "/api/2.0/mlflow/traces/link-to-run", req.toJson())
                    .thenApply(json -> null));
        }
        return chain;
    }

    /** Returns the new assessment's id ({@code a-…}). */
    public CompletableFuture<String> createAssessment(NewAssessment assessment) {
        String path = "/api/3.0/mlflow/traces/" + encodeSegment(assessment.traceId()) + "/assessments";
        return call("POST", path, assessment.toJson())
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
        return call("POST", "/api/3.0/mlflow/traces/search", req.toJson()).thenApply(TracePage::fromJson);
    }

    /** {@code POST /api/2.0/mlflow/runs/search}: runs (JSON, tags included) of one experiment matching the filter. */
    public CompletableFuture<List<JsonNode>> searchRuns(String experimentId, String filter, int maxResults) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode();
        body.putArray("experiment_ids").add(experimentId);
        body.put("filter", filter).put("max_results", maxResults);
        return call("POST", "/api/2.0/mlflow/runs/search", body).thenApply(json -> {
            List<JsonNode> runs = new java.util.ArrayList<>();
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
        return call("POST", "/api/2.0/mlflow/runs/log-inputs", body).thenApply(json -> null);
    }

    /** {@code GET /api/3.0/mlflow/datasets/{dataset_id}}: the evaluation dataset, or empty if unknown. */
    public CompletableFuture<Optional<EvaluationDataset>> getEvaluationDataset(String datasetId) {
        return call("GET", "/api/3.0/mlflow/datasets/" + encodeSegment(datasetId), null)
                .thenApply(json -> Optional.of(EvaluationDataset.fromJson(json.path("dataset"))))
                .exceptionally(t -> {
                    MlflowClientException e = asClientException(t, "GET dataset");
                    if (isNotFound(e)) {
                        return Optional.empty();
                    }
                    throw e;
                });
    }

    /** {@code POST /api/3.0/mlflow/datasets/search}: evaluation datasets named exactly {@code name}. */
    public CompletableFuture<EvaluationDatasetPage> searchEvaluationDatasets(String name, int maxResults) {
        return call("POST", "/api/3.0/mlflow/datasets/search", new SearchEvaluationDatasets(name, maxResults).toJson())
                .thenApply(EvaluationDatasetPage::fromJson);
    }

    /** {@code GET /api/3.0/mlflow/datasets/{dataset_id}/records}: one page of records. */
    public CompletableFuture<DatasetRecordPage> getDatasetRecords(String datasetId, int maxResults, String pageToken) {
        GetDatasetRecords req = new GetDatasetRecords(datasetId, maxResults, pageToken);
        return call("GET", req.pathAndQuery(MlflowClient::encodeQuery), null).thenApply(DatasetRecordPage::fromJson);
    }

    /** {@code GET /api/2.0/mlflow/runs/get}: the run JSON ({@code info}, {@code data} with tags and params). */
    public CompletableFuture<JsonNode> getRun(String runId) {
        return call("GET", "/api/2.0/mlflow/runs/get?run_id=" + encodeSegment(runId), null)
                .thenApply(json -> json.path("run"));
    }

    /** {@code PATCH /api/3.0/mlflow/traces/{trace_id}/tags}: sets one tag on a stored trace. */
    public CompletableFuture<Void> setTraceTag(String traceId, String key, String value) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode().put("key", key).put("value", value);
        return call("PATCH", "/api/3.0/mlflow/traces/" + encodeSegment(traceId) + "/tags", body)
                .thenApply(json -> null);
    }

    /** {@code POST /api/2.0/mlflow/traces/delete-traces} for the given ids; completes with the number deleted. */
    public CompletableFuture<Integer> deleteTraces(String experimentId, List<String> traceIds) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode().put("experiment_id", experimentId);
        traceIds.forEach(body.putArray("request_ids")::add);
        return call("POST", "/api/2.0/mlflow/traces/delete-traces", body)
                .thenApply(json -> json.path("traces_deleted").asInt());
    }

    /**
     * {@code GET /api/3.0/mlflow/traces/get}: the whole trace ({@code trace_info} and OTLP-shaped
     * {@code spans}) when MLflow keeps spans in its tracking store; empty if unknown.
     */
    public CompletableFuture<Optional<JsonNode>> getTrace(String traceId) {
        return call("GET", "/api/3.0/mlflow/traces/get?trace_id=" + encodeSegment(traceId), null)
                .thenApply(json -> Optional.of(json.path("trace")))
                .exceptionally(t -> {
                    MlflowClientException e = asClientException(t, "GET trace");
                    if (isNotFound(e)) {
                        return Optional.empty();
                    }
                    throw e;
                });
    }

    /** The {@code trace_info} JSON (assessments included), or empty if the trace is unknown. */
    public CompletableFuture<Optional<JsonNode>> getTraceInfo(String traceId) {
        return call("GET", "/api/3.0/mlflow/traces/" + encodeSegment(traceId), null)
                .thenApply(json -> Optional.of(json.path("trace").path("trace_info")))
                .exceptionally(t -> {
                    MlflowClientException e = asClientException(t, "GET trace info");
                    if (isNotFound(e)) {
                        return Optional.empty();
                    }
                    throw e;
                });
    }

    // ---- HTTP plumbing ---------------------------------------------------------------------------

    private String url(String pathAndQuery) {
        return target.baseUri() + pathAndQuery;
    }

    /** Headers of every call to the tracking server. */
    private Map<String, String> headers() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("User-Agent", USER_AGENT);
        target.auth().authorizationHeader().ifPresent(a -> h.put("Authorization", a));
        return h;
    }

    /** One JSON call to the tracking server; the package's other REST clients (logged models, prompts) use it. */
    CompletableFuture<JsonNode> call(String method, String path, ObjectNode body) {
        String what = method + " " + stripQuery(path);
        Map<String, String> h = headers();
        h.put("Accept", JSON);
        byte[] bytes = null;
        if (body != null) {
            h.put("Content-Type", JSON);
            bytes = JsonValues.write(body).getBytes(StandardCharsets.UTF_8);
        }
        return send(method, url(path), h, bytes, what).thenApply(r -> {
            requireSuccess(r, what);
            return r.body().length == 0 ? JsonValues.MAPPER.createObjectNode() : JsonValues.parse(r.body());
        });
    }

    private CompletableFuture<MlflowHttp.Response> send(String method, String uri, Map<String, String> headers,
            byte[] body, String what) {
        CompletableFuture<MlflowHttp.Response> f;
        try {
            f = http.send(new MlflowHttp.Request(method, uri, headers, body, target.requestTimeout()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(transportFailure(e, what));
        }
        return f.exceptionally(t -> {
            throw transportFailure(t, what);
        });
    }

    private static void requireSuccess(MlflowHttp.Response r, String what) {
        if (r.status() / 100 != 2) {
            ErrorBody err = ErrorBody.of(r.body());
            throw MlflowClientException.fromStatus(what + " -> " + r.status() + err.describe(), r.status(),
                    err.errorCode());
        }
    }

    private static MlflowClientException transportFailure(Throwable t, String what) {
        Throwable cause = unwrap(t);
        if (cause instanceof MlflowClientException e) {
            return e;
        }
        String kind = cause instanceof ConnectException ? "connection refused"
                : cause instanceof TimeoutException ? "timed out"
                : cause.getClass().getSimpleName();
        return new MlflowClientException(what + ": " + kind, MlflowClientException.NO_RESPONSE, null, true, cause);
    }

    /** Maps any failure of a future of this client to the exception callers should see. */
    static MlflowClientException asClientException(Throwable t, String what) {
        Throwable cause = unwrap(t);
        if (cause instanceof MlflowClientException e) {
            return e;
        }
        return new MlflowClientException(what + ": " + cause, MlflowClientException.NO_RESPONSE, null, false, cause);
    }

    private static Throwable unwrap(Throwable t) {
        return Futures.unwrap(t);
    }

    private static boolean isNotFound(MlflowClientException e) {
        return e.status() == 404 || "RESOURCE_DOES_NOT_EXIST".equals(e.errorCode());
    }

    private static byte[] gzip(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length / 4 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static String stripQuery(String path) {
        int q = path.indexOf('?');
        return q < 0 ? path : path.substring(0, q);
    }

    private static String encodeSegment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodeQuery(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** MLflow's {@code {"error_code","message"}} or FastAPI's {@code {"detail"}}, if present. */
    private record ErrorBody(String errorCode, String message) {
        private static final int MAX_MESSAGE = 300;

        static ErrorBody of(byte[] body) {
            if (body == null || body.length == 0) {
                return new ErrorBody(null, null);
            }
            try {
                JsonNode json = JsonValues.parse(body);
                String code = json.hasNonNull("error_code") ? json.get("error_code").asText() : null;
                String msg = json.hasNonNull("message") ? json.get("message").asText()
                        : json.has("detail") ? json.get("detail").toString() : null;
                return new ErrorBody(code, msg);
            } catch (RuntimeException notJson) {
                return new ErrorBody(null, new String(body, StandardCharsets.UTF_8));
            }
        }

        String describe() {
            StringBuilder sb = new StringBuilder();
            if (errorCode != null) {
                sb.append(' ').append(errorCode);
            }
            if (message != null && !message.isBlank()) {
                String m = message.strip();
                sb.append(": ").append(m.length() > MAX_MESSAGE ? m.substring(0, MAX_MESSAGE) + "…" : m);
            }
            return sb.toString();
        }
    }
}
