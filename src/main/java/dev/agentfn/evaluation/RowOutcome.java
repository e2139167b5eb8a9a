package dev.agentfn.evaluation;

import java.util.List;

/**
 * What the agent did for one row.
 *
 * @param output the final answer text, or {@code null} when the invocation failed
 * @param error why it failed, or {@code null}
 * @param traceId the agent trace, or {@code null} if none was started
 * @param toolsCalled tool names in call order
 */
public record RowOutcome(String traceId, String output, String error, long latencyMs, double costUsd, long totalTokens,
        List<String> toolsCalled) {
    public RowOutcome {
        toolsCalled = List.copyOf(toolsCalled);
    }

    public boolean failed() {
        return error != null;
    }
}
