package dev.agentfn.conversation.messages.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One content block of a Messages API message. Every variant keeps the block exactly as received
 * ({@link #json()}) because assistant turns must go back verbatim (thinking signatures, server-tool
 * blocks, fields this version does not know).
 */
public sealed interface ContentBlock {

    ObjectNode json();

    default String type() {
        return json().path("type").asText();
    }

    record Text(ObjectNode json) implements ContentBlock {
        public String text() {
            return json.path("text").asText("");
        }
    }

    /** A request to use a tool: {@code id}, {@code name} and {@code input}, whoever runs it. */
    sealed interface ToolRequest extends ContentBlock {
        default String id() {
            return json().path("id").asText();
        }

        default String name() {
            return json().path("name").asText();
        }

        default JsonNode input() {
            return json().path("input");
        }
    }

    /** {@code tool_use}: a tool this function runs. */
    record ToolUse(ObjectNode json) implements ToolRequest {
    }

    /** {@code server_tool_use} and {@code mcp_tool_use}: run by Anthropic, not by us. */
    record RemoteToolUse(ObjectNode json) implements ToolRequest {
        public String serverName() {
            return json.path("server_name").asText(null);
        }
    }

    /** Results of server and MCP tools ({@code web_search_tool_result}, {@code mcp_tool_result}, ...). */
    record RemoteToolResult(ObjectNode json) implements ContentBlock {
        public String toolUseId() {
            return json.path("tool_use_id").asText();
        }

        public boolean isError() {
            return json.path("is_error").asBoolean(false)
                    || json.path("content").path("type").asText("").endsWith("_error");
        }
    }

    record Thinking(ObjectNode json) implements ContentBlock {
    }

    record Other(ObjectNode json) implements ContentBlock {
    }

    static ContentBlock of(ObjectNode json) {
        String type = json.path("type").asText();
        return switch (type) {
            case "text" -> new Text(json);
            case "tool_use" -> new ToolUse(json);
            case "server_tool_use", "mcp_tool_use" -> new RemoteToolUse(json);
            case "thinking", "redacted_thinking" -> new Thinking(json);
            default -> type.endsWith("_tool_result") ? new RemoteToolResult(json) : new Other(json);
        };
    }
}
