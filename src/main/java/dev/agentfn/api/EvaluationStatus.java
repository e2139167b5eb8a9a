package dev.agentfn.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.agentfn.evaluation.Assessment;
import dev.agentfn.evaluation.EvaluationRun;
import io.quarkus.runtime.annotations.RegisterForReflection;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Progress and results of one evaluation ({@code GET /v1/evaluations/{id}}). */
@RegisterForReflection
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EvaluationStatus(String id, @JsonProperty("run_id") String runId,
        @JsonProperty("experiment_id") String experimentId, String status, String failure, String dataset,
        List<String> scorers, @JsonProperty("rows_total") int rowsTotal, @JsonProperty("rows_done") int rowsDone,
        @JsonProperty("rows_failed") int rowsFailed, @JsonProperty("rows_resumed") int rowsResumed,
        @JsonProperty("started_at") Instant startedAt,
        @JsonProperty("ended_at") Instant endedAt, Map<String, Double> metrics, List<Row> results) {

    /** One scored row. */
    @RegisterForReflection
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Row(int index, @JsonProperty("trace_id") String traceId, String error,
            @JsonProperty("latency_ms") long latencyMs, @JsonProperty("cost_usd") double costUsd,
            List<Score> assessments) {
    }

    /** One assessment: a value and rationale, or an error. */
    @RegisterForReflection
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Score(String name, Object value, String rationale, String error) {
    }

    static EvaluationStatus of(EvaluationRun run) {
        List<Row> rows = run.rows().stream().map(r -> new Row(r.index(), r.traceId(), r.error(), r.latencyMs(),
                r.costUsd(), r.assessments().stream().map(EvaluationStatus::score).toList())).toList();
        return new EvaluationStatus(run.id(), run.runId(), run.experimentId(), run.status().name(), run.failure(),
                run.dataset(), run.scorers(), run.totalRows(), run.doneRows(), run.failedRows(), run.resumedRows(), run.startedAt(),
                run.endedAt(), run.metrics(), rows);
    }

    private static Score score(Assessment a) {
        return new Score(a.name(), a.value(), a.rationale(), a.error());
    }
}
