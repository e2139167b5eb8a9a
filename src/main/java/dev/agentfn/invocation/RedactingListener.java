package dev.agentfn.invocation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.config.Secrets;
import dev.agentfn.conversation.ConversationListener;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a streaming caller sees, redacted of every configured secret: a model or tool that prints a credential
 * (the CLI's environment holds the Anthropic key) must not stream it out. Text deltas go through
 * {@link Secrets.Pieces}, so a secret split over several deltas is caught too.
 */
final class RedactingListener implements ConversationListener {
    private final ConversationListener delegate;
    private final Secrets secrets;
    private final Secrets.Pieces text;
    /** Text held back still counts as relayed: a model call that streamed anything is not retried. */
    private final AtomicBoolean received = new AtomicBoolean();

    RedactingListener(ConversationListener delegate, Secrets secrets) {
        this.delegate = delegate;
        this.secrets = secrets;
        this.text = secrets.pieces();
    }

    @Override
    public void textDelta(String delta) {
        received.set(true);
        pass(text.next(delta));
    }

    @Override
    public void toolCall(String toolUseId, String name, JsonNode input) {
        received.set(true);
        pass(text.rest()); // the text before the call comes before it
        delegate.toolCall(toolUseId, secrets.redact(name), secrets.redact(input));
    }

    @Override
    public void toolResult(String toolUseId, String name, String content, boolean isError) {
        delegate.toolResult(toolUseId, secrets.redact(name), secrets.redact(content), isError);
    }

    @Override
    public boolean relayedAnything() {
        return received.get() || delegate.relayedAnything();
    }

    /**
     * The conversation succeeded: what was held back is passed on (it is no whole secret). After a failure it
     * is dropped instead, since it may be most of a secret whose end never came.
     */
    void complete() {
        pass(text.rest());
    }

    private void pass(String delta) {
        if (!delta.isEmpty()) {
            delegate.textDelta(delta);
        }
    }
}
