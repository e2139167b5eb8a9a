package dev.agentfn.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs Python snippets with the MLflow venv against a tracking server, to read traces back the
 * way users do ({@code mlflow.get_trace}, {@code mlflow.search_traces}).
 *
 * <pre>{@code
 * JsonNode t = new MlflowPython(server).json("""
 *     import mlflow, json
 *     t = mlflow.get_trace("tr-...")
 *     print(json.dumps({"state": t.info.state.value}))
 *     """);
 * }</pre>
 *
 * <p>Snippets run in one long-lived interpreter per venv ({@code snippet_server.py}), each as {@code __main__}
 * with fresh globals and MLflow's tracking URI and active experiment reset, as a new interpreter would have them:
 * starting Python and importing MLflow took seconds per read-back, dozens of times per suite. A snippet that
 * times out kills that interpreter; the next snippet starts a new one.
 */
public final class MlflowPython {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long TIMEOUT_SECONDS = 120;
    private static final Map<Path, SnippetServer> SERVERS = new ConcurrentHashMap<>();

    private final Path python;
    private final URI trackingUri;

    public MlflowPython(MlflowServer server) {
        this(server.venv(), server.uri());
    }

    public MlflowPython(Path venv, URI trackingUri) {
        this.python = venv.resolve("bin/python");
        this.trackingUri = trackingUri;
    }

    /** Runs the snippet with {@code MLFLOW_TRACKING_URI} set; returns stdout, throws on a non-zero exit. */
    public String run(String snippet) {
        SnippetServer server = SERVERS.computeIfAbsent(python, SnippetServer::new);
        ObjectNode reply = server.run(trackingUri.toString(), snippet, TIMEOUT_SECONDS);
        String stdout = reply.path("out").asText();
        int rc = reply.path("rc").asInt();
        if (rc != 0) {
            throw new AssertionError("python snippet failed (" + rc + "):\n" + reply.path("err").asText()
                    + "\nstdout:\n" + stdout);
        }
        return stdout;
    }

    /** Runs the snippet and parses the last non-empty stdout line as JSON. */
    public JsonNode json(String snippet) {
        String stdout = run(snippet);
        String[] lines = stdout.strip().split("\n");
        String last = lines[lines.length - 1];
        try {
            return JSON.readTree(last);
        } catch (IOException e) {
            throw new AssertionError("last stdout line is not JSON: " + last + "\nfull stdout:\n" + stdout, e);
        }
    }

    /** One interpreter running {@code snippet_server.py}; one snippet at a time. */
    private static final class SnippetServer {
        private final Path python;
        /** Reads replies, so a reply that never comes can be waited for with a timeout. */
        private final ExecutorService reader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mlflow-snippet-reader");
            t.setDaemon(true);
            return t;
        });
        private Process process;
        private BufferedWriter in;
        private BufferedReader out;

        SnippetServer(Path python) {
            this.python = python;
        }

        synchronized ObjectNode run(String uri, String code, long timeoutSeconds) {
            try {
                ensureStarted();
                in.write(JSON.createObjectNode().put("uri", uri).put("code", code).toString());
                in.newLine();
                in.flush();
                BufferedReader replies = out;
                Future<String> line = reader.submit(replies::readLine);
                String reply = line.get(timeoutSeconds, TimeUnit.SECONDS);
                if (reply == null) {
                    throw new AssertionError("the snippet interpreter exited; its log: " + log());
                }
                return (ObjectNode) JSON.readTree(reply);
            } catch (TimeoutException e) {
                stop();
                throw new AssertionError("python snippet timed out after " + timeoutSeconds + " s");
            } catch (IOException | ExecutionException e) {
                stop();
                throw new AssertionError("the snippet interpreter failed: " + e + "; its log: " + log(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        private void ensureStarted() throws IOException {
            if (process != null && process.isAlive()) {
                return;
            }
            Path script = Files.createTempFile("snippet_server", ".py");
            try (InputStream s = MlflowPython.class.getResourceAsStream("snippet_server.py")) {
                Files.copy(s, script, StandardCopyOption.REPLACE_EXISTING);
            }
            ProcessBuilder pb = new ProcessBuilder(List.of(python.toString(), script.toString()))
                    .redirectError(logFile().toFile());
            pb.environment().put("MLFLOW_DISABLE_TELEMETRY", "true");
            pb.environment().put("DO_NOT_TRACK", "true");
            pb.environment().put("PYTHONIOENCODING", "utf-8");
            process = pb.start();
            in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
        }

        private void stop() {
            if (process != null) {
                process.destroyForcibly();
                process = null;
            }
        }

        private static Path logFile() {
            return Path.of(System.getProperty("java.io.tmpdir"), "agentfn-snippet-server-" + ProcessHandle.current().pid()
                    + ".log");
        }

        private static String log() {
            try {
                String all = Files.readString(logFile(), StandardCharsets.UTF_8);
                return all.length() > 4000 ? all.substring(all.length() - 4000) : all;
            } catch (IOException e) {
                return "(unreadable: " + e.getMessage() + ")";
            }
        }
    }
}
