package dev.agentfn.mlflow;

/**
 * What happened to one {@link MlflowTraceWriter#write} call.
 *
 * @param path the path that was taken (for a failure: the path that failed)
 * @param reason empty when delivered; otherwise a message without credentials
 * @param retryable whether writing the same trace again later may succeed (server down, 5xx,
 *     timeout); false for answers a retry cannot change (unknown experiment, bad input)
 */
public record WriteOutcome(boolean delivered, Path path, String reason, boolean retryable) {

    public enum Path {
        /** OTLP spans + StartTraceV3 (OSS server with a SQL store). */
        OTLP,
        /** StartTraceV3 + traces.json through the artifact proxy (servers without OTLP ingest). */
        TRACES_JSON,
        /** StartTraceV3 + traces.json to a Databricks signed URL. */
        DATABRICKS
    }

    public static WriteOutcome delivered(Path path) {
        return new WriteOutcome(true, path, "", false);
    }

    public static WriteOutcome failed(Path path, String reason, boolean retryable) {
        return new WriteOutcome(false, path, reason, retryable);
    }

    public WriteOutcome withPath(Path newPath) {
        return new WriteOutcome(delivered, newPath, reason, retryable);
    }
}
