package dev.agentfn.standin;

/**
 * Thrown out of the handler on purpose: the JDK HTTP server reacts to a handler exception by
 * closing the socket without writing the terminating chunk, which is exactly the "connection
 * dropped mid-stream" failure a client must survive. Never caught inside this package.
 */
final class AbortConnection extends RuntimeException {
    AbortConnection(String why) {
        super(why, null, false, false);
    }
}
