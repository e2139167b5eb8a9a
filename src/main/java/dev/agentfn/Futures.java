package dev.agentfn;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** What a failed future failed with, under the wrappers the JDK puts around it. */
public final class Futures {
    private Futures() {
    }

    public static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
