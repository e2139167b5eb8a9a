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
        @Schema(description = "{\"path\":\"<file under agentfn.evaluation.dataset-root>.jsonl|.csv\"} or "
                + "{\"rows\":[{\"inputs\":{…},\"expectations\":{…}}]}", required = true) JsonNode dataset,
        @Schema(description = "Code scorer names (exact_match, contains, regex, expected_tools_called, no_error, "
                + "latency_under_ms, cost_under_usd, tokens_under) or objects {\"type\":…}; judges are "
                + "{\"type\":\"judge\",\"name\",\"instructions\",\"model\":\"anthropic:/…\",\"result_type\"}.",
                required = true) List<JsonNode> scorers,
        @Schema(description = "Model for rows that name none.") String model,
        @Schema(description = "Conversation engine: messages (the Messages API tool loop) or claude-code (the Claude Code CLI).", enumeration = {"messages", "claude-code"}) String engine) {
}
