package dev.agentfn.mlflow;

/**
 * A failed MLflow call. Messages carry the method, the path and MLflow's own error text, never
 * credentials or signed URLs.
 */
public final class MlflowClientException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** No HTTP response at all (connection refused, timeout, I/O error). */
    public static final int NO_RESPONSE = 0;

    private final int status;
    private final String errorCode;
    private final boolean retryable;

    public MlflowClientException(String message, int status, String errorCode, boolean retryable, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.errorCode = errorCode;
        this.retryable = retryable;
    }

    public static MlflowClientException fromStatus(String message, int status, String errorCode) {
        return new MlflowClientException(message, status, errorCode, isRetryableStatus(status), null);
    }

    /** Transient statuses; 501 is not one (the server lacks the feature). */
    public static boolean isRetryableStatus(int status) {
        return status == NO_RESPONSE || status == 408 || status == 429 || (status >= 500 && status != 501);
    }

    /** HTTP status, or {@link #NO_RESPONSE}. */
    public int status() {
        return status;
    }

    /** MLflow's {@code error_code} (e.g. {@code RESOURCE_DOES_NOT_EXIST}), or null. */
    public String errorCode() {
        return errorCode;
    }

    public boolean retryable() {
        return retryable;
    }
}
