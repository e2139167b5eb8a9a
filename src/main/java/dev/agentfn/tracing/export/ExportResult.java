package dev.agentfn.tracing.export;

/**
 * Outcome of one export attempt.
 *
 * @param retryable whether a later attempt may succeed (MLflow down, 5xx) or never will (bad experiment)
 * @param detail what happened, safe to log (no credentials)
 */
public record ExportResult(boolean delivered, boolean retryable, String detail) {

    public static ExportResult success(String detail) {
        return new ExportResult(true, false, detail);
    }

    public static ExportResult failure(boolean retryable, String detail) {
        return new ExportResult(false, retryable, detail);
    }
}
