package dev.agentfn.evaluation;

/** Bad evaluation input (dataset, scorer, template): the message is shown to the caller as is. */
public final class EvaluationException extends IllegalArgumentException {
    public EvaluationException(String message) {
        super(message);
    }
}
