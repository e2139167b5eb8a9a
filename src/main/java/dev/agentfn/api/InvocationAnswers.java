package dev.agentfn.api;

import dev.agentfn.Futures;
import dev.agentfn.conversation.ConversationResult;
import dev.agentfn.conversation.Usage;
import dev.agentfn.invocation.Failure;
import dev.agentfn.invocation.InvocationFailed;
import dev.agentfn.invocation.InvocationOutcome;
import java.time.Duration;
import java.util.Map;

/** The HTTP API's wire form of what the invocation stage answers: the JSON answer, or a problem document. */
final class InvocationAnswers {
    static final String STAND_IN_WARNING = "answered by the local stand-in of the Messages API, not by Claude "
            + "(no ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN is set)";

    private InvocationAnswers() {
    }

    static InvocationResponse response(InvocationOutcome o) {
        ConversationResult r = o.result();
        Usage u = r.usage();
        return new InvocationResponse(r.output(), r.content(), r.stopReason(), r.turns(),
                new InvocationResponse.UsageBody(u.inputTokens(), u.outputTokens(), u.cacheReadInputTokens(),
                        u.cacheCreationInputTokens()),
                r.cost().totalUsd(), r.model(), o.engine(), r.sessionId(), o.durationMillis(),
                new InvocationResponse.TraceBody(o.traceId(), o.export().wireName(), o.rootSpanId()),
                o.standIn() ? Boolean.TRUE : null, o.standIn() ? STAND_IN_WARNING : null, o.toolsCalled());
    }

    /** The problem of a failed invocation (with its trace id), or of anything else that failed the answer. */
    static ProblemException problem(Throwable err) {
        Throwable t = Futures.unwrap(err);
        if (t instanceof ProblemException p) {
            return p;
        }
        if (t instanceof InvocationFailed f) {
            return new ProblemException(problem(f.failure()).withTraceId(f.traceId()), headers(f.failure()));
        }
        return new ProblemException(internal());
    }

    static Problem problem(Failure failure) {
        int s = failure.status();
        if (failure instanceof Failure.DeadlineExceeded) {
            return Problem.of(s, "deadline-exceeded", "Invocation deadline exceeded", failure.detail());
        }
        if (failure instanceof Failure.EngineUnavailable) {
            return Problem.of(s, "engine-unavailable", "Engine unavailable", failure.detail());
        }
        if (failure instanceof Failure.UpstreamCredentialsRejected c) {
            return Problem.of(s, "upstream-credentials", "Upstream credentials rejected", c.detail())
                    .withUpstreamRequestId(c.requestId());
        }
        if (failure instanceof Failure.UpstreamUnavailable u) {
            return Problem.of(s, "upstream-unavailable", "Upstream unavailable", u.detail())
                    .withUpstreamRequestId(u.requestId());
        }
        if (failure instanceof Failure.UpstreamRefused r) {
            return Problem.of(s, "upstream-error", "Upstream error", r.detail()).withUpstreamRequestId(r.requestId());
        }
        if (failure instanceof Failure.PromptUnusable) {
            return s == 400 ? Problem.of(s, "invalid-request", "Invalid request", failure.detail())
                    : Problem.of(s, "prompt-unavailable", "Prompt unavailable", failure.detail());
        }
        return internal(); // Cancelled (nobody reads it) and Internal (a defect, logged where it was classified)
    }

    private static Problem internal() {
        return Problem.of(500, "internal", "Internal error",
                "the conversation failed unexpectedly; the server log has details");
    }

    /** An unavailable upstream says when to come back. */
    private static Map<String, String> headers(Failure failure) {
        if (failure instanceof Failure.UpstreamUnavailable u) {
            Duration d = u.retryAfter() == null ? Duration.ofSeconds(1) : u.retryAfter();
            return Map.of("Retry-After", Long.toString(Math.max(1, (d.toMillis() + 999) / 1000)));
        }
        return Map.of();
    }
}
