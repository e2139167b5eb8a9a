package dev.agentfn.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Answer of {@code POST /v1/invocations}, also the data of the final SSE {@code done} event.
 * {@code tools_called} (tool names in call order) is present only on evaluation rows
 * (requests with {@code X-Agentfn-Source-Run}).
 */
@RegisterForReflection
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InvocationResponse(
        String output,
        JsonNode content,
        @JsonProperty("stop_reason") String stopReason,
        int turns,
        UsageBody usage,
        @JsonProperty("cost_usd") double costUsd,
        String model,
        String engine,
        @JsonProperty("session_id") String sessionId,
        @JsonProperty("duration_ms") long durationMs,
        TraceBody trace,
        @JsonProperty("stand_in") Boolean standIn,
        String warning,
        @JsonProperty("tools_called") List<String> toolsCalled) {

    /** Tokens summed over the conversation, Anthropic's convention: input excludes cache reads and writes. */
    @RegisterForReflection
    public record UsageBody(
            @JsonProperty("input_tokens") long inputTokens,
            @JsonProperty("output_tokens") long outputTokens,
            @JsonProperty("cache_read_input_tokens") long cacheReadInputTokens,
            @JsonProperty("cache_creation_input_tokens") long cacheCreationInputTokens) {
    }

    /**
     * @param export {@code delivered}, {@code spooled}, {@code disabled} or {@code failed}
     * @param rootSpanId the root span (where evaluation assessments attach)
     */
    @RegisterForReflection
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TraceBody(String id, String export, @JsonProperty("root_span_id") String rootSpanId) {
    }
}
