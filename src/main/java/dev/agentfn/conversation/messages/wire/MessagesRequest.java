package dev.agentfn.conversation.messages.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * Body of {@code POST /v1/messages}. Messages, system and tools are JSON trees because they are
 * passed through verbatim; the request is always streamed.
 *
 * @param system a string or a list of text blocks, or {@code null}
 * @param container the code-execution container to reuse, or {@code null}
 */
public record MessagesRequest(String model, int maxTokens, List<JsonNode> messages, JsonNode system,
        List<JsonNode> tools, List<JsonNode> mcpServers, String container, List<String> betas) {

    public MessagesRequest {
        messages = List.copyOf(messages);
        tools = List.copyOf(tools);
        mcpServers = List.copyOf(mcpServers);
        betas = List.copyOf(betas);
    }

    public ObjectNode toJson() {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("model", model).put("max_tokens", maxTokens);
        body.set("messages", array(messages));
        if (system != null && !system.isNull()) {
            body.set("system", system);
        }
        if (!tools.isEmpty()) {
            body.set("tools", array(tools));
        }
        if (!mcpServers.isEmpty()) {
            body.set("mcp_servers", array(mcpServers));
        }
        if (container != null) {
            body.put("container", container);
        }
        body.put("stream", true);
        return body;
    }

    public MessagesRequest withMessages(List<JsonNode> next, String nextContainer) {
        return new MessagesRequest(model, maxTokens, next, system, tools, mcpServers, nextContainer, betas);
    }

    private static ArrayNode array(List<JsonNode> items) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        items.forEach(a::add);
        return a;
    }
}
