package dev.agentfn.evaluation;

/** The evaluation's run is being continued by another trigger right now (its lease has not expired). */
public final class EvaluationConflictException extends RuntimeException {
    public EvaluationConflictException(String message) {
        super(message);
    }
}
