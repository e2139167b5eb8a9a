package dev.agentfn.mlflow.entities;

import java.util.regex.Pattern;

/**
 * The one place that spells MLflow's trace id: {@code tr-} and the 32 lowercase hex digits of the OpenTelemetry
 * trace id. The code carries the OTel id on spans and the MLflow id on trace info; this converts between them.
 */
public final class TraceIds {
    private static final String PREFIX = "tr-";
    private static final Pattern MLFLOW_ID = Pattern.compile("tr-[0-9a-f]{32}");

    private TraceIds() {
    }

    /** MLflow's id of the trace with this OTel trace id (32 hex digits). */
    public static String mlflow(String otelTraceId) {
        return PREFIX + otelTraceId;
    }

    /** The OTel trace id behind an MLflow id. */
    public static String otel(String mlflowTraceId) {
        return mlflowTraceId.substring(PREFIX.length());
    }

    /** Whether this is an MLflow trace id as agentfn writes them. */
    public static boolean isMlflowId(String id) {
        return id != null && MLFLOW_ID.matcher(id).matches();
    }
}
