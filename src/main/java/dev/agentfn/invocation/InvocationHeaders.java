package dev.agentfn.invocation;

/**
 * HTTP headers of an invocation that both sides of an evaluation's fan-out know: the function that answers
 * {@code POST /v1/invocations} and the evaluation runner that sends rows to it.
 */
public final class InvocationHeaders {
    /** An evaluation row's MLflow run, recorded on its trace as {@code mlflow.sourceRun}. */
    public static final String SOURCE_RUN = "X-Agentfn-Source-Run";
    /** The trace's root span, answered with every JSON response (evaluation assessments attach there). */
    public static final String ROOT_SPAN = "X-Root-Span-Id";
    /** The trace's id, answered with every JSON response. */
    public static final String TRACE_ID = "X-Trace-Id";

    private InvocationHeaders() {
    }
}
