package dev.agentfn.invocation;

import dev.agentfn.conversation.ConversationException;
import dev.agentfn.invocation.agent.PromptException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.function.UnaryOperator;

/**
 * Why an invocation failed, in the terms every front door needs: the HTTP API maps each variant to a problem
 * document, the evaluation runner to a row error. {@code detail} says what happened for a person, and never
 * carries a credential (the stage redacts it).
 */
public sealed interface Failure {

    String detail();

    /** A short name of the error for traces and metrics ({@code overloaded_error}, {@code DeadlineExceeded}). */
    String type();

    /** The HTTP status a front door answers with (both of ours speak HTTP), also the metrics' {@code status} tag. */
    int status();

    /** The invocation deadline passed. */
    record DeadlineExceeded(String detail) implements Failure {
        @Override
        public String type() {
            return "DeadlineExceeded";
        }

        @Override
        public int status() {
            return 504;
        }
    }

    /** The engine cannot run here; {@code setting} names what to configure. */
    record EngineUnavailable(String detail, String setting) implements Failure {
        @Override
        public String type() {
            return "EngineUnavailable";
        }

        @Override
        public int status() {
            return 503;
        }
    }

    /** Anthropic rejected this deployment's credentials (401, 403). */
    record UpstreamCredentialsRejected(String detail, String type, String requestId) implements Failure {
        @Override
        public int status() {
            return 502;
        }
    }

    /** Anthropic overloaded, rate limiting or unreachable after the retries. */
    record UpstreamUnavailable(String detail, String type, String requestId, Duration retryAfter) implements Failure {
        @Override
        public int status() {
            return 503;
        }
    }

    /** Anthropic refused the request itself (another 4xx). */
    record UpstreamRefused(String detail, String type, String requestId) implements Failure {
        @Override
        public int status() {
            return 502;
        }
    }

    /**
     * A registered prompt the invocation names cannot be used: unknown, a variable missing (400), or MLflow
     * unreachable with no earlier load cached (503).
     */
    record PromptUnusable(String detail, int status) implements Failure {
        @Override
        public String type() {
            return "PromptUnusable";
        }
    }

    /** The caller went away before the answer. */
    record Cancelled(String detail) implements Failure {
        @Override
        public String type() {
            return "Cancelled";
        }

        @Override
        public int status() {
            return 500; // nobody reads it
        }
    }

    /** A defect: logged with its stack trace, answered without internals. */
    record Internal(String detail, String type) implements Failure {
        @Override
        public int status() {
            return 500;
        }
    }

    /**
     * Classifies what an engine failed with; never echoes an internal message.
     *
     * @param redact applied to upstream text (message and error type), which may repeat a credential
     */
    static Failure of(Throwable err, UnaryOperator<String> redact) {
        if (err instanceof ConversationException.DeadlineExceeded d) {
            return new DeadlineExceeded(d.getMessage());
        }
        if (err instanceof ConversationException.Unavailable u) {
            return new EngineUnavailable(u.getMessage() + " (setting: " + u.setting() + ")", u.setting());
        }
        if (err instanceof ConversationException.Upstream u) {
            return upstream(u, redact.apply(u.getMessage()), redact.apply(u.errorType()));
        }
        if (err instanceof PromptException p) {
            return new PromptUnusable(p.getMessage(), p.kind() == PromptException.Kind.INVALID ? 400 : 503);
        }
        if (err instanceof CancellationException) {
            return new Cancelled("the caller went away before the answer");
        }
        return new Internal("the conversation failed unexpectedly; the server log has details",
                err.getClass().getSimpleName());
    }

    private static Failure upstream(ConversationException.Upstream u, String message, String type) {
        int s = u.status();
        if (s == 401 || s == 403) {
            return new UpstreamCredentialsRejected("the Messages API rejected this deployment's credentials ("
                    + type + ")", type, u.requestId());
        }
        if (s == 429 || s == 529 || s >= 500 || s == 0 || s == 408 || s == 409) {
            return new UpstreamUnavailable("the Messages API is unavailable (" + type
                    + (s > 0 ? ", HTTP " + s : "") + "): " + message, type, u.requestId(), u.retryAfter());
        }
        return new UpstreamRefused("the Messages API refused the request (" + type + ", HTTP " + s + "): "
                + message, type, u.requestId());
    }
}
