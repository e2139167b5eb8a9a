package dev.agentfn.conversation.messages.wire;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.Usage;
import java.util.List;
import java.util.stream.Collectors;

/** An assistant message returned by the Messages API. */
public record Message(String id, String model, List<ContentBlock> content, String stopReason, String stopSequence,
        Usage usage, ObjectNode container) {

    public Message {
        content = List.copyOf(content);
    }

    /** The concatenated text blocks. */
    public String text() {
        return content.stream().filter(ContentBlock.Text.class::isInstance).map(b -> ((ContentBlock.Text) b).text())
                .collect(Collectors.joining());
    }

    public List<ContentBlock.ToolUse> toolUses() {
        return content.stream().filter(ContentBlock.ToolUse.class::isInstance).map(ContentBlock.ToolUse.class::cast)
                .toList();
    }

    public ArrayNode contentJson() {
        ArrayNode array = JsonNodeFactory.instance.arrayNode();
        content.forEach(b -> array.add(b.json()));
        return array;
    }

    /** The message as the API returned it; also MLflow's chat-view output shape. */
    public ObjectNode toJson() {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("id", id).put("type", "message").put("role", "assistant").put("model", model);
        node.set("content", contentJson());
        node.put("stop_reason", stopReason).put("stop_sequence", stopSequence);
        ObjectNode u = node.putObject("usage");
        u.put("input_tokens", usage.inputTokens()).put("output_tokens", usage.outputTokens())
                .put("cache_read_input_tokens", usage.cacheReadInputTokens())
                .put("cache_creation_input_tokens", usage.cacheCreationInputTokens());
        return node;
    }

    /** The assistant turn to append to the conversation, verbatim. */
    public ObjectNode asAssistantTurn() {
        ObjectNode turn = JsonNodeFactory.instance.objectNode();
        turn.put("role", "assistant");
        turn.set("content", contentJson());
        return turn;
    }
}
