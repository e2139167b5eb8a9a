package dev.agentfn.mlflow;

/**
 * Bounds of {@link OtlpSpanBatcher}'s group commit.
 *
 * @param maxSpans spans per OTLP request at most (a trace with more goes alone)
 * @param maxBytes encoded (uncompressed) bytes per OTLP request at most (a larger trace goes alone)
 * @param maxRequestsInFlight OTLP requests per experiment (and run) waiting for MLflow at once; traces
 *     that finish while all are busy wait for the next free one and share it
 */
public record OtlpBatchLimits(int maxSpans, long maxBytes, int maxRequestsInFlight) {
    /** As the configuration defaults (AgentfnConfig.Tracing.Batch). */
    public static final OtlpBatchLimits DEFAULT = new OtlpBatchLimits(2000, 4L * 1024 * 1024, 4);

    public OtlpBatchLimits {
        if (maxSpans < 1 || maxBytes < 1 || maxRequestsInFlight < 1) {
            throw new IllegalArgumentException("batch limits must be positive: " + maxSpans + " spans, "
                    + maxBytes + " bytes, " + maxRequestsInFlight + " requests in flight");
        }
    }

    public OtlpBatchLimits withMaxRequestsInFlight(int n) {
        return new OtlpBatchLimits(maxSpans, maxBytes, n);
    }
}
