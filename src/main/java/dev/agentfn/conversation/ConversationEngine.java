package dev.agentfn.conversation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.tracing.ActiveTrace;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Runs one conversation and records its model and tool calls as children of the trace's root span.
 * The caller owns the root (inputs, outputs, status) and delivers the trace. Fails with a
 * {@link ConversationException}.
 */
public interface ConversationEngine {

    /** Name used in requests ({@code engine}) and traces. */
    String name();

    /**
     * The options this engine really applies to the request, as the root span records them: what the model
     * calls get ({@code max_tokens} per call, the tools offered, the turn limit).
     */
    default Map<String, Object> tracedOptions(ConversationRequest request) {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("model", request.model());
        options.put("max_turns", request.maxTurns());
        options.put("max_tokens", request.maxTokens());
        options.put("tools", request.tools());
        return options;
    }

    /** Name of the trace's root span, the one MLflow's own integration for this kind of agent uses. */
    default String rootSpanName() {
        return "agent_invocation";
    }

    /**
     * Checks what a request asks of this engine before anything runs (a front door calls it while validating),
     * and returns the tools the conversation will be offered.
     *
     * @param messages the conversation so far, ending with the user's turn
     * @param requestedTools the tools the caller named (each once), or {@code null} for the engine's default
     * @throws ConversationException.InvalidRequest saying what the caller must change
     */
    List<String> admit(List<JsonNode> messages, List<String> requestedTools);

    CompletableFuture<ConversationResult> run(ConversationRequest request, ActiveTrace trace,
            ConversationListener listener);
}
