package dev.agentfn.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The packaged jar as a real process, as the failsafe ITs run it (after {@code package}): started with its own
 * environment and temporary directory, its console in {@code <work>/<name>.log}, ready when its health says so.
 */
public final class AgentfnJar {
    public static final Path JAR = MlflowServer.projectDir().resolve("target/quarkus-app/quarkus-run.jar");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private AgentfnJar() {
    }

    /**
     * Starts {@code java -jar} on a free port, {@code PORT} set; {@code env} entries with a null value are removed
     * from the inherited environment. Does not wait: start several, then {@link Started#awaitReady()} each.
     */
    public static Started start(Path work, String name, Path tmpdir, Map<String, String> env) throws IOException {
        assertTrue(Files.isRegularFile(JAR), JAR + " is missing: run the IT after `package` (./mvnw verify)");
        int port = freePort();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + Files.createDirectories(tmpdir), "-jar", JAR.toString())
                .directory(work.toFile()).redirectErrorStream(true).redirectOutput(work.resolve(name + ".log").toFile());
        Map<String, String> environment = pb.environment();
        environment.put("PORT", Integer.toString(port));
        env.forEach((k, v) -> {
            if (v == null) {
                environment.remove(k);
            } else {
                environment.put(k, v);
            }
        });
        return new Started(pb.start(), port, work);
    }

    /** A started process, its port and where its log is. */
    public record Started(Process process, int port, Path work) {
        /** Until {@code /q/health/ready} answers 200; fails when the process dies or a minute passes. */
        public Started awaitReady() throws Exception {
            AgentfnJar.awaitReady(port, process, work);
            return this;
        }
    }

    private static void awaitReady(int port, Process process, Path work) throws Exception {
        Instant deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline) && process.isAlive()) {
            try {
                HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready"))
                        .timeout(Duration.ofSeconds(2)).build();
                if (HTTP.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(300);
        }
        fail("agentfn on port " + port + " did not become ready; logs in " + work);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
