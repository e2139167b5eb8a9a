package dev.agentfn.invocation.agent;

/**
 * A registered prompt could not be used: a client error (unknown prompt, version or alias, a malformed
 * reference, a missing variable) or MLflow unreachable with nothing cached. Never an empty prompt instead.
 */
public final class PromptException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Whether the caller can fix it (a 400), or MLflow must come back first (a 503). */
    public enum Kind { INVALID, UNAVAILABLE }

    private final Kind kind;

    PromptException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
