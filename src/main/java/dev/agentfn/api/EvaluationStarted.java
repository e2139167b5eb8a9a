package dev.agentfn.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.quarkus.runtime.annotations.RegisterForReflection;

/** Answer of {@code POST /v1/evaluations}: the evaluation runs on; poll {@code GET /v1/evaluations/{id}}. */
@RegisterForReflection
public record EvaluationStarted(String id, @JsonProperty("run_id") String runId,
        @JsonProperty("experiment_id") String experimentId, String status, int rows) {
}
