package dev.agentfn.conversation.tools;

/** What a tool returned; errors are results the model sees, not exceptions. */
public record ToolResult(String content, boolean isError) {
    public static ToolResult error(String message) {
        return new ToolResult(message, true);
    }
}
