package dev.agentfn.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * An RFC 9457 problem document ({@code application/problem+json}).
 *
 * @param type a URI naming the kind of problem
 * @param traceId the MLflow trace id when a trace exists for the failed invocation
 * @param upstreamRequestId Anthropic's {@code request-id}, when the failure came from there
 */
@RegisterForReflection
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail,
        @JsonProperty("trace_id") String traceId,
        @JsonProperty("upstream_request_id") String upstreamRequestId) {

    public static final String MEDIA_TYPE = "application/problem+json";
    private static final String BASE = "https://agentfn.dev/problems/";

    public static Problem of(int status, String kind, String title, String detail) {
        return new Problem(BASE + kind, title, status, detail, null, null);
    }

    public Problem withTraceId(String id) {
        return new Problem(type, title, status, detail, id, upstreamRequestId);
    }

    /** This problem with every configured secret removed from its detail (details may quote upstream messages). */
    public Problem redacted(dev.agentfn.config.Secrets secrets) {
        String clean = secrets.redact(detail);
        return clean == null || clean.equals(detail) ? this
                : new Problem(type, title, status, clean, traceId, upstreamRequestId);
    }

    public Problem withUpstreamRequestId(String id) {
        return new Problem(type, title, status, detail, traceId, id);
    }
}
