package dev.agentfn.conversation;

import com.fasterxml.jackson.databind.JsonNode;

/** What a streaming caller sees while the conversation runs. Calls arrive in conversation order. */
public interface ConversationListener {

    void textDelta(String text);

    void toolCall(String toolUseId, String name, JsonNode input);

    void toolResult(String toolUseId, String name, String content, boolean isError);

    /** Whether anything was passed on to the caller: a model call is then no longer retried. */
    boolean relayedAnything();

    ConversationListener NONE = new ConversationListener() {
        @Override
        public void textDelta(String text) {
        }

        @Override
        public void toolCall(String toolUseId, String name, JsonNode input) {
        }

        @Override
        public void toolResult(String toolUseId, String name, String content, boolean isError) {
        }

        @Override
        public boolean relayedAnything() {
            return false;
        }
    };
}
