package dev.agentfn.api;

import dev.agentfn.conversation.ConversationException;
import java.time.Duration;
import java.util.Map;

/** How conversation failures look to a caller. Never echoes credentials or internals. */
final class UpstreamProblems {
    private UpstreamProblems() {
    }

    static Problem toProblem(Throwable err) {
        if (err instanceof ConversationException.DeadlineExceeded d) {
            return Problem.of(504, "deadline-exceeded", "Invocation deadline exceeded", d.getMessage());
        }
        if (err instanceof ConversationException.Unavailable u) {
            return Problem.of(503, "engine-unavailable", "Engine unavailable",
                    u.getMessage() + " (setting: " + u.setting() + ")");
        }
        if (err instanceof ConversationException.Upstream u) {
            return upstream(u).withUpstreamRequestId(u.requestId());
        }
        if (err instanceof ProblemException p) {
            return p.problem();
        }
        return Problem.of(500, "internal", "Internal error", "the conversation failed unexpectedly; the server log has details");
    }

    static Map<String, String> headers(Throwable err) {
        if (err instanceof ConversationException.Upstream u && upstream(u).status() == 503) {
            Duration d = u.retryAfter() == null ? Duration.ofSeconds(1) : u.retryAfter();
            return Map.of("Retry-After", Long.toString(Math.max(1, (d.toMillis() + 999) / 1000)));
        }
        return Map.of();
    }

    private static Problem upstream(ConversationException.Upstream u) {
        int s = u.status();
        if (s == 401 || s == 403) {
            return Problem.of(502, "upstream-credentials", "Upstream credentials rejected",
                    "the Messages API rejected this deployment's credentials (" + u.errorType() + ")");
        }
        if (s == 429 || s == 529 || s >= 500 || s == 0 || s == 408 || s == 409) {
            return Problem.of(503, "upstream-unavailable", "Upstream unavailable",
                    "the Messages API is unavailable (" + u.errorType() + (s > 0 ? ", HTTP " + s : "") + "): "
                            + u.getMessage());
        }
        return Problem.of(502, "upstream-error", "Upstream error",
                "the Messages API refused the request (" + u.errorType() + ", HTTP " + s + "): " + u.getMessage());
    }
}
