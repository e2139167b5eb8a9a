package dev.agentfn.api;

import java.util.List;

/** SSE parsing shared by tests in other packages. */
public final class ConversationFlowTestSupport {
    private ConversationFlowTestSupport() {
    }

    /** Events of an SSE body as {name, data} pairs, in order. */
    public static List<String[]> sse(String body) {
        return ConversationFlowTest.sse(body);
    }
}
