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

    /** The failure's message for a person (its class name when it has none), under the wrappers. */
    public static String message(Throwable t) {
        Throwable c = unwrap(t);
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
