package dev.agentfn.conversation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A validated conversation to run.
 *
 * @param messages the history in Anthropic format, ending with a user turn
 * @param system a string or text blocks, or {@code null}
 * @param tools names from the deployment's catalogue, already checked
 */
public record ConversationRequest(List<JsonNode> messages, JsonNode system, String model, int maxTokens, int maxTurns,
        List<String> tools, String sessionId, String user, Deadline deadline) {

    public ConversationRequest {
        messages = List.copyOf(messages);
        tools = List.copyOf(tools);
    }
}
