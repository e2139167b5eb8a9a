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
        @Schema(description = "A single user prompt.", minLength = 1) String prompt,
        @Schema(description = "Anthropic-format history, alternating user/assistant, ending with a user turn; at most "
                + "agentfn.invocation.max-messages (1000) entries.", minItems = 1)
        List<JsonNode> messages,
        @Schema(description = "System prompt: a string or a list of text blocks; a string prompts:/name/version or "
                + "prompts:/name@alias names a prompt in MLflow's Prompt Registry.") JsonNode system,
        @Schema(description = "Model id; default from ANTHROPIC_MODEL / agentfn.anthropic.default-model. "
                + RequestParser.MODEL_ID_FORM + ".", pattern = RequestParser.MODEL_ID_REGEX, maxLength = 256) String model,
        @JsonProperty("max_tokens") @Schema(description = "Output token cap per model call.", minimum = "1",
                maximum = "128000") Integer maxTokens,
        @JsonProperty("max_turns") @Schema(description = "Model calls allowed in this conversation, at most "
                + "agentfn.invocation.max-turns-limit (50).", minimum = "1") Integer maxTurns,
        @Schema(description = "Tool names from the deployment's catalogue (claude-code: CLI tool names from agentfn.claude-code.allowed-tools), each once; default: all of them.", uniqueItems = true) List<String> tools,
        @JsonProperty("session_id") @Schema(description = "Groups traces into an MLflow session.", minLength = 1,
                maxLength = 250) String sessionId,
        @Schema(description = "End user, recorded as mlflow.trace.user.", minLength = 1, maxLength = 250) String user,
        @Schema(description = "String map recorded as trace tags: at most agentfn.invocation.max-metadata-entries (50) "
                + "entries, keys of 1-250 characters not starting with \"mlflow.\", values of at most "
                + "agentfn.invocation.max-metadata-value-length (4096) characters.", maxProperties = 50)
        Map<String, String> metadata,
        @Schema(description = "Conversation engine: messages (the Messages API tool loop) or claude-code (the Claude Code CLI).", enumeration = {"messages", "claude-code"}) String engine,
        @JsonProperty("prompt_variables") @Schema(description = "Values of the {{ variables }} of a registered system "
                + "prompt (system, or the deployment's, naming prompts:/name/version or prompts:/name@alias).",
                maxProperties = 50) Map<String, String> promptVariables) {

    /** Top-level fields this version accepts; anything else is named in a 400. */
    static final Set<String> FIELDS = Set.of("prompt", "messages", "system", "model", "max_tokens", "max_turns",
            "tools", "session_id", "user", "metadata", "engine", "prompt_variables");
}
