package dev.agentfn.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.json.JsonValues;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Request and response records of the MLflow REST endpoints {@link MlflowTraceClient} and
 * {@link MlflowTracking} call. Requests
 * build their JSON bodies as trees and responses parse trees, so Jackson never binds these
 * classes by reflection.
 */
public final class MlflowApi {
    private MlflowApi() {
    }

    // ---- Traces -----------------------------------------------------------------------------

    /** {@code GET /api/3.0/mlflow/traces/{trace_id}}: the trace's info with its assessments. */
    static String traceInfoPath(String traceId) {
        return "/api/3.0/mlflow/traces/" + MlflowRest.encodeSegment(traceId);
    }

    /** The {@code trace_info} of a {@link #traceInfoPath} answer. */
    static JsonNode traceInfoOf(JsonNode response) {
        return response.path("trace").path("trace_info");
    }

    // ---- OTLP -------------------------------------------------------------------------------

    /** Result of {@code POST /v1/traces}. */
    public record OtlpExportResult(Outcome outcome, int status, String message) {
        public enum Outcome { OK, UNSUPPORTED, FAILED }

        public static OtlpExportResult ok() {
            return new OtlpExportResult(Outcome.OK, 200, "");
        }

        public static OtlpExportResult unsupported(int status, String message) {
            return new OtlpExportResult(Outcome.UNSUPPORTED, status, message);
        }

        public static OtlpExportResult failed(int status, String message) {
            return new OtlpExportResult(Outcome.FAILED, status, message);
        }

        public boolean retryable() {
            return outcome == Outcome.FAILED && MlflowClientException.isRetryableStatus(status);
        }
    }

    // ---- Traces -----------------------------------------------------------------------------

    /** StartTraceV3 response: the TraceInfo as stored, with the server-set tags. */
    public record StartTraceResult(TraceInfo stored) {
        /** e.g. {@code mlflow-artifacts:/1/traces/tr-…/artifacts}; null if the server sent none. */
        public String artifactLocation() {
            return stored.tags().get(MlflowKeys.Tag.ARTIFACT_LOCATION);
        }

        /**
         * True when the server already holds the spans. Only reliable when the trace row was
         * created by this call: after a merge with a racing OTLP request, 3.17.2 echoes only
         * part of the stored tags.
         */
        public boolean spansInTrackingStore() {
            return "TRACKING_STORE".equals(stored.tags().get(MlflowKeys.Tag.SPANS_LOCATION));
        }
    }

    /** {@code POST /api/3.0/mlflow/traces/search}. */
    public record SearchTraces(String experimentId, String filter, int maxResults, String pageToken) {
        public ObjectNode toJson() {
            ObjectNode body = JsonValues.MAPPER.createObjectNode();
            ObjectNode location = body.putArray("locations").addObject();
            location.put("type", "MLFLOW_EXPERIMENT");
            location.putObject("mlflow_experiment").put("experiment_id", experimentId);
            if (filter != null && !filter.isBlank()) {
                body.put("filter", filter);
            }
            body.put("max_results", maxResults);
            if (pageToken != null && !pageToken.isEmpty()) {
                body.put("page_token", pageToken);
            }
            return body;
        }
    }

    /** One page of search results; trace infos stay JSON so callers see every field. */
    public record TracePage(List<JsonNode> traceInfos, String nextPageToken) {
        public TracePage {
            traceInfos = List.copyOf(traceInfos);
        }

        static TracePage fromJson(JsonNode response) {
            List<JsonNode> infos = new ArrayList<>();
            response.path("traces").forEach(infos::add);
            String token = response.path("next_page_token").asText("");
            return new TracePage(infos, token.isEmpty() ? null : token);
        }
    }

    /** {@code POST /api/2.0/mlflow/traces/link-to-run}; MLflow accepts at most 100 ids per call. */
    public record LinkTracesToRun(String runId, List<String> traceIds) {
        public static final int MAX_TRACE_IDS = 100;

        public LinkTracesToRun {
            traceIds = List.copyOf(traceIds);
            if (traceIds.size() > MAX_TRACE_IDS) {
                throw new IllegalArgumentException("at most " + MAX_TRACE_IDS + " trace ids per call");
            }
        }

        public ObjectNode toJson() {
            ObjectNode body = JsonValues.MAPPER.createObjectNode();
            body.put("run_id", runId);
            ArrayNode ids = body.putArray("trace_ids");
            traceIds.forEach(ids::add);
            return body;
        }
    }

    // ---- Databricks -------------------------------------------------------------------------

    /** {@code credential_info} of {@code GET /api/2.0/mlflow/traces/{id}/credentials-for-data-upload}. */
    public record UploadCredential(String type, String signedUri, Map<String, String> headers) {
        public static final String AWS = "AWS_PRESIGNED_URL";
        public static final String GCP = "GCP_SIGNED_URL";
        public static final String AZURE_BLOB = "AZURE_SAS_URI";
        public static final String AZURE_ADLS_GEN2 = "AZURE_ADLS_GEN2_SAS_URI";

        public UploadCredential {
            headers = Map.copyOf(headers);
        }

        static UploadCredential fromJson(JsonNode response) {
            JsonNode info = response.path("credential_info");
            Map<String, String> headers = new LinkedHashMap<>();
            info.path("headers").forEach(h -> headers.put(h.path("name").asText(), h.path("value").asText()));
            return new UploadCredential(info.path("type").asText(""), info.path("signed_uri").asText(""), headers);
        }

        /** The signed URI is a secret: keep it out of logs. */
        @Override
        public String toString() {
            return "UploadCredential[" + type + ", headers=" + headers.keySet() + "]";
        }
    }

    // ---- Experiments ------------------------------------------------------------------------

    public record Experiment(String experimentId, String name, String artifactLocation, String lifecycleStage) {
        static Experiment fromJson(JsonNode response) {
            JsonNode e = response.path("experiment");
            return new Experiment(e.path("experiment_id").asText(), e.path("name").asText(),
                    e.path("artifact_location").asText(null), e.path("lifecycle_stage").asText(null));
        }
    }

    // ---- Evaluation datasets ------------------------------------------------------------------

    /**
     * An evaluation dataset's metadata, as {@code GET /api/3.0/mlflow/datasets/{dataset_id}} and
     * {@code POST /api/3.0/mlflow/datasets/search} return it ({@code schema} and {@code profile} are JSON text).
     */
    public record EvaluationDataset(String datasetId, String name, String digest, String schema, String profile) {
        static EvaluationDataset fromJson(JsonNode d) {
            return new EvaluationDataset(d.path("dataset_id").asText(), d.path("name").asText(),
                    d.path("digest").asText(null), d.path("schema").asText(null), d.path("profile").asText(null));
        }
    }

    /** {@code POST /api/3.0/mlflow/datasets/search}: datasets whose name matches exactly. */
    public record SearchEvaluationDatasets(String name, int maxResults) {
        public ObjectNode toJson() {
            ObjectNode body = JsonValues.MAPPER.createObjectNode();
            // MLflow's filter grammar: a string literal in single quotes, a quote inside doubled is not
            // supported, so names with a quote use double quotes.
            String quote = name.contains("'") ? "\"" : "'";
            body.put("filter_string", "name = " + quote + name + quote);
            body.put("max_results", maxResults);
            return body;
        }
    }

    /** Response of {@code POST /api/3.0/mlflow/datasets/search}. */
    public record EvaluationDatasetPage(List<EvaluationDataset> datasets, String nextPageToken) {
        public EvaluationDatasetPage {
            datasets = List.copyOf(datasets);
        }

        static EvaluationDatasetPage fromJson(JsonNode response) {
            List<EvaluationDataset> list = new ArrayList<>();
            response.path("datasets").forEach(d -> list.add(EvaluationDataset.fromJson(d)));
            String token = response.path("next_page_token").asText("");
            return new EvaluationDatasetPage(list, token.isEmpty() ? null : token);
        }
    }

    /** {@code GET /api/3.0/mlflow/datasets/{dataset_id}/records?max_results=&page_token=}. */
    public record GetDatasetRecords(String datasetId, int maxResults, String pageToken) {
        public String pathAndQuery(java.util.function.UnaryOperator<String> encode) {
            return "/api/3.0/mlflow/datasets/" + encode.apply(datasetId) + "/records?max_results=" + maxResults
                    + (pageToken == null ? "" : "&page_token=" + encode.apply(pageToken));
        }
    }

    /**
     * One record of an evaluation dataset.
     *
     * @param inputs the record's {@code inputs} object
     * @param expectations its {@code expectations} object, or {@code null}
     */
    public record DatasetRecord(String recordId, JsonNode inputs, JsonNode expectations) {
    }

    /** Response of {@code GetDatasetRecords}: MLflow sends the records as one JSON text ({@code records}). */
    public record DatasetRecordPage(List<DatasetRecord> records, String nextPageToken) {
        public DatasetRecordPage {
            records = List.copyOf(records);
        }

        static DatasetRecordPage fromJson(JsonNode response) {
            List<DatasetRecord> list = new ArrayList<>();
            String text = response.path("records").asText("");
            if (!text.isEmpty()) {
                JsonValues.parse(text).forEach(r -> list.add(
                        new DatasetRecord(r.path("dataset_record_id").asText(), r.path("inputs"),
                                r.hasNonNull("expectations") ? r.get("expectations") : null)));
            }
            String token = response.path("next_page_token").asText("");
            return new DatasetRecordPage(list, token.isEmpty() ? null : token);
        }
    }

    // ---- Runs -------------------------------------------------------------------------------

    public enum RunStatus { RUNNING, SCHEDULED, FINISHED, FAILED, KILLED }

    /** {@code POST /api/2.0/mlflow/runs/create}. */
    public record CreateRun(String experimentId, String runName, long startTimeMillis, Map<String, String> tags) {
        public CreateRun {
            tags = Map.copyOf(tags);
        }

        public ObjectNode toJson() {
            ObjectNode body = JsonValues.MAPPER.createObjectNode();
            body.put("experiment_id", experimentId);
            if (runName != null) {
                body.put("run_name", runName);
            }
            body.put("start_time", startTimeMillis);
            keyValues(body.putArray("tags"), tags);
            return body;
        }
    }

    public record Run(String runId, String experimentId, String runName, String status) {
        static Run fromJson(JsonNode response) {
            JsonNode info = response.path("run").path("info");
            return new Run(info.path("run_id").asText(), info.path("experiment_id").asText(),
                    info.path("run_name").asText(null), info.path("status").asText(null));
        }
    }

    /** {@code POST /api/2.0/mlflow/runs/update}. */
    public record UpdateRun(String runId, RunStatus status, Long endTimeMillis) {
        public ObjectNode toJson() {
            ObjectNode body = JsonValues.MAPPER.createObjectNode();
            body.put("run_id", runId);
            body.put("status", status.name());
            if (endTimeMillis != null) {
                body.put("end_time", endTimeMillis);
            }
            return body;
        }
    }

    public record Metric(String key, double value, long timestampMillis, long step) {
    }

    /**
     * {@code POST /api/2.0/mlflow/runs/log-batch}. MLflow limits one call to 1000 metrics, 100
     * params and 100 tags (1000 items total); {@link #split()} makes calls within those limits.
     */
    public record LogBatch(String runId, List<Metric> metrics, Map<String, String> params, Map<String, String> tags) {
        static final int MAX_METRICS = 1000;
        static final int MAX_PARAMS = 100;
        static final int MAX_TAGS = 100;

        public LogBatch {
            metrics = List.copyOf(metrics);
            params = new TreeMap<>(params);
            tags = new TreeMap<>(tags);
        }

        public ObjectNode toJson() {
            ObjectNode body = JsonValues.MAPPER.createObjectNode();
            body.put("run_id", runId);
            ArrayNode ms = body.putArray("metrics");
            metrics.forEach(m -> ms.addObject().put("key", m.key()).put("value", m.value())
                    .put("timestamp", m.timestampMillis()).put("step", m.step()));
            keyValues(body.putArray("params"), params);
            keyValues(body.putArray("tags"), tags);
            return body;
        }

        /** Params and tags go in chunks of 100 alongside up to 800 metrics, keeping every call ≤ 1000 items. */
        public List<LogBatch> split() {
            List<Map.Entry<String, String>> p = new ArrayList<>(params.entrySet());
            List<Map.Entry<String, String>> t = new ArrayList<>(tags.entrySet());
            int metricsPerCall = MAX_METRICS - MAX_PARAMS - MAX_TAGS;
            int calls = Math.max(1, Math.max(ceilDiv(metrics.size(), metricsPerCall),
                    Math.max(ceilDiv(p.size(), MAX_PARAMS), ceilDiv(t.size(), MAX_TAGS))));
            List<LogBatch> batches = new ArrayList<>();
            for (int c = 0; c < calls; c++) {
                batches.add(new LogBatch(runId, slice(metrics, c * metricsPerCall, metricsPerCall),
                        toMap(slice(p, c * MAX_PARAMS, MAX_PARAMS)), toMap(slice(t, c * MAX_TAGS, MAX_TAGS))));
            }
            return batches;
        }

        private static int ceilDiv(int a, int b) {
            return (a + b - 1) / b;
        }

        private static <T> List<T> slice(List<T> list, int from, int count) {
            return from >= list.size() ? List.of() : list.subList(from, Math.min(list.size(), from + count));
        }

        private static Map<String, String> toMap(List<Map.Entry<String, String>> entries) {
            Map<String, String> map = new LinkedHashMap<>();
            entries.forEach(e -> map.put(e.getKey(), e.getValue()));
            return map;
        }
    }

    // ---- Assessments ------------------------------------------------------------------------

    public enum AssessmentKind { FEEDBACK, EXPECTATION }

    /**
     * {@code POST /api/3.0/mlflow/traces/{trace_id}/assessments}.
     *
     * @param sourceType {@code HUMAN}, {@code LLM_JUDGE} or {@code CODE}
     * @param value any JSON-able value
     * @param spanId optional span the assessment is about (16 hex)
     */
    public record NewAssessment(String traceId, String name, AssessmentKind kind, Object value,
            String sourceType, String sourceId, String rationale, Map<String, String> metadata, String spanId) {
        public NewAssessment {
            Objects.requireNonNull(traceId, "traceId");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(kind, "kind");
            metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        }

        public ObjectNode toJson() {
            ObjectNode body = JsonValues.MAPPER.createObjectNode();
            ObjectNode a = body.putObject("assessment");
            a.put("assessment_name", name);
            a.put("trace_id", traceId);
            if (spanId != null) {
                a.put("span_id", spanId);
            }
            a.putObject("source").put("source_type", sourceType == null ? "CODE" : sourceType)
                    .put("source_id", sourceId == null ? "agentfn" : sourceId);
            if (value instanceof FeedbackError e) {
                // A scorer that produced no value: MLflow's Feedback carries the error instead.
                a.putObject("feedback").putObject("error").put("error_code", e.errorCode())
                        .put("error_message", e.errorMessage());
                return finish(body, a);
            }
            JsonNode v = JsonValues.toNode(value);
            if (kind == AssessmentKind.FEEDBACK) {
                a.putObject("feedback").set("value", v);
            } else if (v.isContainerNode()) {
                // The Python client stores structured expectations this way; readers expect it.
                a.putObject("expectation").putObject("serialized_value")
                        .put("serialization_format", "JSON_FORMAT").put("value", JsonValues.write(v));
            } else {
                a.putObject("expectation").set("value", v);
            }
            return finish(body, a);
        }

        private ObjectNode finish(ObjectNode body, ObjectNode a) {
            if (rationale != null) {
                a.put("rationale", rationale);
            }
            if (!metadata.isEmpty()) {
                ObjectNode m = a.putObject("metadata");
                new TreeMap<>(metadata).forEach(m::put);
            }
            return body;
        }
    }

    /** Pass as a feedback's value to record {@code feedback.error} instead of a value. */
    public record FeedbackError(String errorCode, String errorMessage) {
    }

    private static void keyValues(ArrayNode target, Map<String, String> values) {
        new TreeMap<>(values).forEach((k, v) -> target.addObject().put("key", k).put("value", v));
    }
}
