package dev.agentfn.evaluation;

/**
 * A dataset source that could not be read for reasons outside the request (MLflow down, slow or
 * failing): the caller may retry the same request later, unlike an {@link EvaluationException}.
 */
public final class DatasetUnavailableException extends RuntimeException {
    public DatasetUnavailableException(String message) {
        super(message);
    }
}
