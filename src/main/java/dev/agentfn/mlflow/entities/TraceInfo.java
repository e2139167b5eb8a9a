package dev.agentfn.mlflow.entities;

import java.util.Map;

/**
 * MLflow V3 trace info, as sent with StartTraceV3.
 *
 * @param traceId MLflow id ({@link TraceIds}: {@code tr-} and the OTel trace id)
 * @param experimentId the experiment the trace belongs to
 * @param requestTimeMillis start of the root span, epoch milliseconds
 * @param executionDurationMillis root span duration in milliseconds
 * @param requestPreview at most 1000 characters
 * @param responsePreview at most 1000 characters
 * @param metadata immutable trace metadata (string values)
 * @param tags mutable trace tags (string values)
 */
public record TraceInfo(
        String traceId,
        String experimentId,
        String clientRequestId,
        long requestTimeMillis,
        long executionDurationMillis,
        TraceState state,
        String requestPreview,
        String responsePreview,
        Map<String, String> metadata,
        Map<String, String> tags) {

    public TraceInfo {
        metadata = Map.copyOf(metadata);
        tags = Map.copyOf(tags);
    }

    /** The OTel trace id (32 hex) behind the MLflow id. */
    public String otelTraceId() {
        return TraceIds.otel(traceId);
    }

    public TraceInfo withExperimentId(String id) {
        return new TraceInfo(traceId, id, clientRequestId, requestTimeMillis, executionDurationMillis, state,
                requestPreview, responsePreview, metadata, tags);
    }
}
