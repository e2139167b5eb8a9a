package dev.agentfn.conversation;

import dev.agentfn.tracing.ActiveTrace;
import java.util.concurrent.CompletableFuture;

/**
 * Runs one conversation and records its model and tool calls as children of the trace's root span.
 * The caller owns the root (inputs, outputs, status) and delivers the trace. Fails with a
 * {@link ConversationException}.
 */
public interface ConversationEngine {

    /** Name used in requests ({@code engine}) and traces. */
    String name();

    /** Name of the trace's root span, the one MLflow's own integration for this kind of agent uses. */
    default String rootSpanName() {
        return "agent_invocation";
    }

    CompletableFuture<ConversationResult> run(ConversationRequest request, ActiveTrace trace,
            ConversationListener listener);
}
