package dev.agentfn.invocation;

import dev.agentfn.conversation.ConversationRequest;
import java.util.Map;
import java.util.Objects;

/**
 * One invocation, as a front door hands it to the {@link InvocationStage}: the validated conversation, the
 * engine that runs it, and what the trace records beside it.
 *
 * @param prompt the caller's single prompt, or {@code null} when it sent a message history (the root span
 *     then records the messages)
 * @param tags trace tags the caller asked for (validated by the front door)
 * @param traceparent the caller's W3C {@code traceparent} header, or {@code null}; recorded as the parent,
 *     never adopted as the trace
 * @param sourceRunId an evaluation row's MLflow run ({@code mlflow.sourceRun}), or {@code null}; such an
 *     invocation also reports the tools it called
 * @param promptVariables values of a registered system prompt's {@code {{ variables }}}
 */
public record Invocation(ConversationRequest conversation, String engine, String prompt, Map<String, String> tags,
        String traceparent, String sourceRunId, Map<String, String> promptVariables) {

    public Invocation {
        Objects.requireNonNull(conversation, "conversation");
        Objects.requireNonNull(engine, "engine");
        tags = tags == null ? Map.of() : Map.copyOf(tags);
        promptVariables = promptVariables == null ? Map.of() : Map.copyOf(promptVariables);
    }

    /** An invocation whose system prompt names no registered prompt with variables. */
    public Invocation(ConversationRequest conversation, String engine, String prompt, Map<String, String> tags,
            String traceparent, String sourceRunId) {
        this(conversation, engine, prompt, tags, traceparent, sourceRunId, Map.of());
    }
}
