package dev.agentfn.invocation;

import dev.agentfn.tracing.export.ExportStatus;
import java.util.List;

/**
 * How an {@link InvocationStage} answer fails: what went wrong, and the trace that recorded it (already delivered
 * or spooled). No stack trace of its own: the cause, when it is a defect, was logged where it was classified.
 *
 * @param toolsCalled tools the conversation called before it failed, for invocations that asked (else null)
 */
public final class InvocationFailed extends RuntimeException {
    private final Failure failure;
    private final String traceId;
    private final String rootSpanId;
    private final ExportStatus export;
    private final List<String> toolsCalled;

    InvocationFailed(Failure failure, String traceId, String rootSpanId, ExportStatus export, List<String> toolsCalled) {
        super(failure.detail(), null, false, false);
        this.failure = failure;
        this.traceId = traceId;
        this.rootSpanId = rootSpanId;
        this.export = export;
        this.toolsCalled = toolsCalled;
    }

    public Failure failure() {
        return failure;
    }

    public String traceId() {
        return traceId;
    }

    public String rootSpanId() {
        return rootSpanId;
    }

    public ExportStatus export() {
        return export;
    }

    public List<String> toolsCalled() {
        return toolsCalled;
    }
}
