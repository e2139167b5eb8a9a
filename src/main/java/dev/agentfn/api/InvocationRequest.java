package dev.agentfn.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.runtime.annotations.RegisterForReflection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Body of {@code POST /v1/invocations}. Exactly one of {@code prompt} and {@code messages}. */
@RegisterForReflection
@Schema(name = "InvocationRequest", description = "An agent prompt or conversation to run.")
public record InvocationRequest(
        @Schema(description = "A single user prompt.") String prompt,
        @Schema(description = "Anthropic-format history, alternating user/assistant, ending with a user turn.")
        List<JsonNode> messages,
        @Schema(description = "System prompt: a string or a list of text blocks.") JsonNode system,
        @Schema(description = "Model id; default from ANTHROPIC_MODEL / agentfn.anthropic.default-model.") String model,
        @JsonProperty("max_tokens") @Schema(description = "Output token cap per model call.") Integer maxTokens,
        @JsonProperty("max_turns") @Schema(description = "Model calls allowed in this conversation.") Integer maxTurns,
        @Schema(description = "Tool names from the deployment's catalogue (claude-code: CLI tool names from agentfn.claude-code.allowed-tools); default: all of them.") List<String> tools,
        @JsonProperty("session_id") @Schema(description = "Groups traces into an MLflow session.") String sessionId,
        @Schema(description = "End user, recorded as mlflow.trace.user.") String user,
        @Schema(description = "String map recorded as trace tags.") Map<String, String> metadata,
        @Schema(description = "Conversation engine: messages (the Messages API tool loop) or claude-code (the Claude Code CLI).", enumeration = {"messages", "claude-code"}) String engine) {

    /** Top-level fields this version accepts; anything else is named in a 400. */
    static final Set<String> FIELDS = Set.of("prompt", "messages", "system", "model", "max_tokens", "max_turns",
            "tools", "session_id", "user", "metadata", "engine");
}
