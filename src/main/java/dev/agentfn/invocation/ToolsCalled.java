package dev.agentfn.invocation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.conversation.ConversationListener;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Passes everything on and remembers tool names in call order (an evaluation's {@code expected_tools_called});
 * kept when the conversation fails too. Tool calls of one turn end on several threads, hence the list.
 */
final class ToolsCalled implements ConversationListener {
    private final ConversationListener delegate;
    private final List<String> names = new CopyOnWriteArrayList<>();

    ToolsCalled(ConversationListener delegate) {
        this.delegate = delegate;
    }

    List<String> names() {
        return List.copyOf(names);
    }

    @Override
    public void textDelta(String text) {
        delegate.textDelta(text);
    }

    @Override
    public void toolCall(String toolUseId, String name, JsonNode input) {
        names.add(name);
        delegate.toolCall(toolUseId, name, input);
    }

    @Override
    public void toolResult(String toolUseId, String name, String content, boolean isError) {
        delegate.toolResult(toolUseId, name, content, isError);
    }

    @Override
    public boolean relayedAnything() {
        return delegate.relayedAnything();
    }
}
