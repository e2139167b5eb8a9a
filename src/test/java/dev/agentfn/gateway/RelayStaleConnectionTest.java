package dev.agentfn.gateway;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which failures of an upstream request the relay sends once more on a new connection: the ones Vert.x' client
 * really raises when the upstream dropped the connection before answering (closed, or reset because the request
 * hit a socket it had closed), and not an upstream that is down.
 */
class RelayStaleConnectionTest {
    Vertx vertx;
    HttpClient http;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true));
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aConnectionResetBeforeAnyAnswerIsStale() throws Exception {
        assertTrue(Relay.staleConnection(failureAgainst(true)));
    }

    @Test
    void aConnectionClosedBeforeAnyAnswerIsStale() throws Exception {
        assertTrue(Relay.staleConnection(failureAgainst(false)));
    }

    @Test
    void anUpstreamThatIsDownIsNotStaleSoNothingIsResent() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertFalse(Relay.staleConnection(send(port)));
    }

    /** What the client's request fails with when the upstream reads it and then resets (or closes) the connection. */
    private Throwable failureAgainst(boolean reset) throws Exception {
        try (ServerSocket server = new ServerSocket(0)) {
            Thread upstream = new Thread(() -> {
                try (Socket s = server.accept()) {
                    readHead(s.getInputStream());
                    if (reset) {
                        s.setSoLinger(true, 0); // close with RST
                    }
                } catch (Exception ignored) {
                    // the test's assertion says what happened
                }
            });
            upstream.start();
            Throwable t = send(server.getLocalPort());
            upstream.join(5000);
            return t;
        }
    }

    private Throwable send(int port) throws Exception {
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
                .setURI("/v1/messages");
        try {
            http.request(options).compose(req -> req.send(Buffer.buffer("{}"))).toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("the request was answered");
    }

    private static void readHead(InputStream in) throws Exception {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return;
            }
            head.append((char) b);
        }
        Thread.sleep(50); // the two-byte body too, so the close is not a reset by unread data alone
        in.readNBytes(Math.min(in.available(), 2));
    }
}
