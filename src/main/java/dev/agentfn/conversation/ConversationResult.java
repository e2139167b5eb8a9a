package dev.agentfn.conversation;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The end of a conversation.
 *
 * @param content the final assistant content blocks
 * @param stopReason the last model stop reason, or {@code max_turns} when the turn cap ended it
 * @param turns model calls made
 * @param usage summed over every model call
 */
public record ConversationResult(String output, JsonNode content, String stopReason, int turns, Usage usage,
        Pricing.Cost cost, String model, String sessionId) {

    /** The same result with another answer text and content (e.g. redacted). */
    public ConversationResult withOutput(String newOutput, JsonNode newContent) {
        return new ConversationResult(newOutput, newContent, stopReason, turns, usage, cost, model, sessionId);
    }
}
