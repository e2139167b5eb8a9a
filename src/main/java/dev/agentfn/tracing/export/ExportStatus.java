package dev.agentfn.tracing.export;

/** What an invocation reports about its trace ({@code trace.export} in the answer). */
public enum ExportStatus {
    /** MLflow confirmed the trace before the answer left. */
    DELIVERED,
    /** MLflow did not confirm in time; the trace is in the durable spool and will be redelivered. */
    SPOOLED,
    /** Tracing is off (no tracking URI, or switched off). */
    DISABLED,
    /** Neither delivered nor spooled (spool unwritable): the trace is lost and this is logged as an error. */
    FAILED;

    public String wireName() {
        return name().toLowerCase();
    }
}
