package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.CompletableFuture;

/** Runs one dataset row through the agent. Implemented next to the invocation API, which owns request parsing. */
public interface AgentInvoker {

    /** Throws {@link EvaluationException} naming {@code where} when the inputs are not a valid invocation. */
    void validate(ObjectNode inputs, String where);

    /** Engines this deployment offers. */
    java.util.Set<String> engines();

    /** The model used when neither the evaluation nor the row names one. */
    String defaultModel();

    /**
     * Invokes the agent; the trace carries {@code mlflow.sourceRun=sourceRunId} from its creation.
     * Never completes exceptionally: a failed invocation is an outcome with an error.
     */
    CompletableFuture<Invocation> invoke(ObjectNode inputs, String engine, String sourceRunId);

    /** @param rootSpanId the trace's root span, where assessments attach; {@code null} if no trace */
    record Invocation(RowOutcome outcome, String rootSpanId) {
    }
}
