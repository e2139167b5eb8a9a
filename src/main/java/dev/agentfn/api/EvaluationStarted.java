package dev.agentfn.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Answer of {@code POST /v1/evaluations}: the evaluation runs on; poll {@code GET /v1/evaluations/{id}}.
 * {@code rows_resumed}: rows an earlier trigger of the same (time-budgeted) evaluation already finished in this run.
 */
@RegisterForReflection
public record EvaluationStarted(String id, @JsonProperty("run_id") String runId,
        @JsonProperty("experiment_id") String experimentId, String status, int rows,
        @JsonProperty("rows_resumed") int rowsResumed) {
}
