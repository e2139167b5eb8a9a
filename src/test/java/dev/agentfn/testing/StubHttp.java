package dev.agentfn.testing;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Answers for stub servers built on the JDK {@code HttpServer}. */
public final class StubHttp {
    private StubHttp() {
    }

    /** Sends a status and a UTF-8 body (none when empty) and closes the exchange. */
    public static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            ex.getResponseBody().write(bytes);
        }
        ex.close();
    }
}
