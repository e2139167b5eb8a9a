package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.MlflowApi.TracePage;
import dev.agentfn.mlflow.MlflowTracking;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Progress of an evaluation kept in MLflow itself, so a later trigger on another (stateless)
 * instance can continue it: a scored row's trace gets tag {@code agentfn.evaluation.row} (its index,
 * latency, cost and error) once all its assessments are posted; a row without a trace is a run tag
 * {@code agentfn.evaluation.row.<index>}. A trace of the run without the tag was cut off mid-row.
 */
final class RunProgress {
    static final String ROW_TAG = "agentfn.evaluation.row";
    static final String KEY_TAG = "agentfn.evaluation.key";
    static final String LEASE_TAG = "agentfn.evaluation.lease_until";
    static final String STATE_TAG = "agentfn.evaluation.state";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PAGE = 500;

    /** What an earlier trigger left: finished rows, and traces of rows it did not finish. */
    record Previous(String runId, long leaseUntil, List<EvaluationRun.RowResult> done, List<String> unfinishedTraces) {
    }

    private final MlflowTracking mlflow;

    RunProgress(MlflowTracking mlflow) {
        this.mlflow = mlflow;
    }

    /** The newest unfinished run of this evaluation key, with its rows; empty when there is none. */
    CompletableFuture<java.util.Optional<Previous>> find(String experimentId, String key) {
        String filter = "tags.`" + KEY_TAG + "` = '" + key + "' and attributes.status = 'RUNNING'";
        return mlflow.searchRuns(experimentId, filter, 1).thenCompose(runs -> {
            if (runs.isEmpty()) {
                return CompletableFuture.completedFuture(java.util.Optional.<Previous>empty());
            }
            JsonNode run = runs.get(0);
            String runId = run.at("/info/run_id").asText();
            Map<String, String> tags = new java.util.HashMap<>();
            run.at("/data/tags").forEach(t -> tags.put(t.path("key").asText(), t.path("value").asText()));
            long lease = Long.parseLong(tags.getOrDefault(LEASE_TAG, "0"));
            List<EvaluationRun.RowResult> done = new ArrayList<>();
            tags.forEach((k, v) -> {
                if (k.startsWith(ROW_TAG + ".")) {
                    done.add(result(v, null, List.of()));
                }
            });
            List<String> unfinished = new ArrayList<>();
            return traces(experimentId, runId, null, done, unfinished)
                    .thenApply(v -> java.util.Optional.of(new Previous(runId, lease, done, unfinished)));
        });
    }

    private CompletableFuture<Void> traces(String experimentId, String runId, String token,
            List<EvaluationRun.RowResult> done, List<String> unfinished) {
        String filter = "metadata.`mlflow.sourceRun` = '" + runId + "'";
        return mlflow.searchTraces(experimentId, filter, PAGE, token).thenCompose((TracePage page) -> {
            for (JsonNode info : page.traceInfos()) {
                String traceId = info.path("trace_id").asText();
                String row = info.path("tags").path(ROW_TAG).asText(null);
                if (row == null) {
                    unfinished.add(traceId);
                } else {
                    done.add(result(row, traceId, assessments(info, runId)));
                }
            }
            return page.nextPageToken() == null ? CompletableFuture.completedFuture(null)
                    : traces(experimentId, runId, page.nextPageToken(), done, unfinished);
        });
    }

    /** Marks a row finished: on its trace, or on the run when it has none. */
    CompletableFuture<Void> markDone(String runId, EvaluationRun.RowResult r) {
        String value = encode(r);
        if (r.traceId() == null) {
            return mlflow.logBatch(runId, List.of(), Map.of(), Map.of(ROW_TAG + "." + r.index(), value));
        }
        return mlflow.setTraceTag(r.traceId(), ROW_TAG, value);
    }

    static String encode(EvaluationRun.RowResult r) {
        ObjectNode n = JSON.createObjectNode().put("index", r.index()).put("latency_ms", r.latencyMs())
                .put("cost_usd", r.costUsd());
        if (r.error() != null) {
            n.put("error", r.error().length() > 500 ? r.error().substring(0, 500) : r.error());
        }
        return n.toString();
    }

    private static EvaluationRun.RowResult result(String json, String traceId, List<Assessment> assessments) {
        try {
            JsonNode n = JSON.readTree(json);
            return new EvaluationRun.RowResult(n.path("index").asInt(), traceId, n.path("error").asText(null),
                    n.path("latency_ms").asLong(), n.path("cost_usd").asDouble(), assessments);
        } catch (java.io.IOException e) {
            throw new EvaluationException("unreadable progress record '" + json + "': " + e.getMessage());
        }
    }

    /** The trace's assessments from this run, as MLflow stores them ({@code feedback.value} or {@code .error}). */
    static List<Assessment> assessments(JsonNode traceInfo, String runId) {
        List<Assessment> out = new ArrayList<>();
        for (JsonNode a : traceInfo.path("assessments")) {
            if (!runId.equals(a.path("metadata").path(EvaluationRunner.SOURCE_RUN_ID).asText())
                    || a.path("valid").asBoolean(true) == false) {
                continue;
            }
            String name = a.path("assessment_name").asText();
            String rationale = a.path("rationale").asText(null);
            JsonNode error = a.path("feedback").path("error");
            if (!error.isMissingNode()) {
                out.add(new Assessment(name, null, rationale, error.path("error_message").asText()));
            } else {
                out.add(new Assessment(name, value(a.path("feedback").path("value")), rationale, null));
            }
        }
        return out;
    }

    static Object value(JsonNode v) {
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isNumber()) {
            return v.asDouble();
        }
        if (v.isTextual()) {
            return v.asText();
        }
        return v.isMissingNode() || v.isNull() ? null : v.toString();
    }
}
