package dev.agentfn.mlflow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Vertx;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A keep-alive connection the server closes as the next request arrives (what uvicorn does to a
 * connection idle for 5 s, and what made CI fail with {@code HttpClosedException} on run creation).
 * The raw socket server answers the first request on its first connection, then reads the second
 * request on that connection and closes it unanswered; later connections are answered normally.
 */
class MlflowHttpTest {
    ServerSocket server;
    Thread acceptor;
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger requestsRead = new AtomicInteger();
    Vertx vertx;
    MlflowHttp http;

    @BeforeEach
    void start() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::acceptLoop, "stub-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
        vertx = Vertx.vertx();
        http = new MlflowHttp(vertx);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                int n = connections.incrementAndGet();
                Thread t = new Thread(() -> serve(s, n == 1), "stub-connection-" + n);
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s, boolean dropSecondRequest) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            for (int i = 0; ; i++) {
                if (!readRequest(in)) {
                    return;
                }
                requestsRead.incrementAndGet();
                if (dropSecondRequest && i == 1) {
                    return; // closes the connection without an answer
                }
                byte[] body = ("{\"answer\":" + requestsRead.get() + "}").getBytes(StandardCharsets.UTF_8);
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    /** Reads one request (headers and a Content-Length body); false at end of stream. */
    private static boolean readRequest(InputStream in) throws IOException {
        int length = 0;
        String line;
        boolean any = false;
        while ((line = readLine(in)) != null && !line.isEmpty()) {
            any = true;
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        if (!any) {
            return false;
        }
        in.readNBytes(length);
        return true;
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                return line.toString(StandardCharsets.US_ASCII).replace("\r", "");
            }
            line.write(c);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.US_ASCII);
    }

    private MlflowHttp.Response post(String body) throws Exception {
        String uri = "http://127.0.0.1:" + server.getLocalPort() + "/api/2.0/mlflow/runs/create";
        return http.send(new MlflowHttp.Request("POST", uri, Map.of("Content-Type", "application/json"),
                body.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10))).get(30, TimeUnit.SECONDS);
    }

    @Test
    void aRequestTheServerDroppedUnreadIsSentAgainOnANewConnection() throws Exception {
        assertEquals(200, post("{\"n\":1}").status());
        Thread.sleep(200); // the first connection is back in the pool, idle

        MlflowHttp.Response second = post("{\"n\":2}");

        assertEquals(200, second.status());
        assertEquals("{\"answer\":3}", new String(second.body(), StandardCharsets.UTF_8),
                "the dropped request was read once on the old connection, then answered on a new one");
        assertEquals(2, connections.get());
    }
}
