package dev.agentfn.conversation;

import java.time.Duration;

/** Why a conversation could not finish. The API maps each kind to a problem response. */
public abstract sealed class ConversationException extends RuntimeException {

    protected ConversationException(String message) {
        super(message, null, false, false);
    }

    /** Anthropic answered with an error (after retries), sent an error event, or could not be reached. */
    public static final class Upstream extends ConversationException {
        private final int status;
        private final String errorType;
        private final String requestId;
        private final Duration retryAfter;

        /** @param status upstream HTTP status, or 0 when no response arrived (connection, dropped stream) */
        public Upstream(int status, String errorType, String message, String requestId, Duration retryAfter) {
            super(message);
            this.status = status;
            this.errorType = errorType;
            this.requestId = requestId;
            this.retryAfter = retryAfter;
        }

        public int status() {
            return status;
        }

        public String errorType() {
            return errorType;
        }

        public String requestId() {
            return requestId;
        }

        public Duration retryAfter() {
            return retryAfter;
        }
    }

    /** The request asks for something this engine cannot do; the message says what to change. Nothing ran. */
    public static final class InvalidRequest extends ConversationException {
        public InvalidRequest(String message) {
            super(message);
        }
    }

    /** The invocation's deadline passed. */
    public static final class DeadlineExceeded extends ConversationException {
        public DeadlineExceeded(String message) {
            super(message);
        }
    }

    /** The engine cannot run here (e.g. no credentials, CLI missing). */
    public static final class Unavailable extends ConversationException {
        private final String setting;

        public Unavailable(String message, String setting) {
            super(message);
            this.setting = setting;
        }

        public String setting() {
            return setting;
        }
    }
}
