package dev.agentfn.conversation;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Token counts in Anthropic's convention: {@code inputTokens} excludes cached tokens, which are
 * counted separately as cache reads and cache writes.
 */
public record Usage(long inputTokens, long outputTokens, long cacheReadInputTokens, long cacheCreationInputTokens) {

    public static final Usage ZERO = new Usage(0, 0, 0, 0);

    public static Usage fromJson(JsonNode usage) {
        if (usage == null || usage.isNull()) {
            return ZERO;
        }
        return new Usage(usage.path("input_tokens").asLong(0), usage.path("output_tokens").asLong(0),
                usage.path("cache_read_input_tokens").asLong(0), usage.path("cache_creation_input_tokens").asLong(0));
    }

    /**
     * Overlays the non-null fields of a {@code message_delta} usage onto this {@code message_start} usage.
     * The delta is cumulative, never an increment.
     */
    public Usage overlay(JsonNode delta) {
        if (delta == null || delta.isNull()) {
            return this;
        }
        return new Usage(pick(delta, "input_tokens", inputTokens), pick(delta, "output_tokens", outputTokens),
                pick(delta, "cache_read_input_tokens", cacheReadInputTokens),
                pick(delta, "cache_creation_input_tokens", cacheCreationInputTokens));
    }

    private static long pick(JsonNode node, String field, long fallback) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? fallback : v.asLong();
    }

    public Usage plus(Usage other) {
        return new Usage(inputTokens + other.inputTokens, outputTokens + other.outputTokens,
                cacheReadInputTokens + other.cacheReadInputTokens,
                cacheCreationInputTokens + other.cacheCreationInputTokens);
    }

    /** All input tokens, cached or not: MLflow's {@code input_tokens} convention. */
    public long allInputTokens() {
        return inputTokens + cacheReadInputTokens + cacheCreationInputTokens;
    }
}
