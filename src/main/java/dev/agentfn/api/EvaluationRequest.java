package dev.agentfn.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * Body of {@code POST /v1/evaluations}, for the OpenAPI document only: the body is read as a tree and
 * checked field by field ({@code dev.agentfn.evaluation.Evaluations#plan}), so errors can name the place.
 */
@Schema(name = "EvaluationRequest", description = "A dataset run through the agent and scored. See docs/evaluation.md.")
public record EvaluationRequest(
        @Schema(description = "MLflow run name.") String name,
        @Schema(description = "{\"path\":\"<file under agentfn.evaluation.dataset-root>.jsonl|.csv\"}, "
                + "{\"url\":\"https://<allowed host>/….jsonl|.csv\"}, "
                + "{\"mlflow_dataset\":\"<MLflow evaluation dataset name or id>\",\"prompt_key\":\"<optional input key>\"}, "
                + "{\"rows\":[{\"inputs\":{…},\"expectations\":{…}}]} or, to score recent production traces, "
                + "{\"traces\":{\"filter\",\"window\",\"sample\",\"max_traces\",\"experiment_id\"}}",
                required = true) JsonNode dataset,
        @Schema(description = "Code scorer names (exact_match, contains, regex, expected_tools_called, no_error, "
                + "latency_under_ms, cost_under_usd, tokens_under, json_schema) or objects {\"type\":…}; judges are "
                + "{\"type\":\"judge\",\"name\",\"instructions\",\"model\":\"anthropic:/…\",\"result_type\"}.",
                required = true) List<JsonNode> scorers,
        @Schema(description = "Model for rows that name none.") String model,
        @Schema(description = "Conversation engine: messages (the Messages API tool loop) or claude-code (the Claude Code CLI).", enumeration = {"messages", "claude-code"}) String engine,
        @Schema(description = "Seconds or a duration (\"10m\", \"PT10M\"): rows not started within it are left for "
                + "the next trigger of the same evaluation, which continues the same MLflow run.",
                name = "time_budget") JsonNode timeBudget,
        @Schema(name = "wait", description = "Answer 200 with the status only when this trigger's work is over (for Lambda).")
                @com.fasterxml.jackson.annotation.JsonProperty("wait") Boolean waitUntilDone) {
}
