package dev.agentfn.mlflow.entities;

/** Final status of a span, as OTLP and MLflow's {@code Span.to_dict} know it. */
public record SpanStatus(Code code, String message) {

    public enum Code { UNSET, OK, ERROR }

    public static final SpanStatus OK = new SpanStatus(Code.OK, "");
    public static final SpanStatus UNSET = new SpanStatus(Code.UNSET, "");

    public SpanStatus {
        message = message == null ? "" : message;
    }

    public static SpanStatus error(String message) {
        return new SpanStatus(Code.ERROR, message);
    }
}
