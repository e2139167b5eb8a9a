package dev.agentfn.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
 */
public final class MlflowPython {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long TIMEOUT_SECONDS = 120;

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
        try {
            Path script = Files.createTempFile("mlflow-snippet", ".py");
            Path out = Files.createTempFile("mlflow-snippet", ".out");
            Path err = Files.createTempFile("mlflow-snippet", ".err");
            try {
                Files.writeString(script, snippet, StandardCharsets.UTF_8);
                ProcessBuilder pb = new ProcessBuilder(List.of(python.toString(), script.toString()))
                        .redirectOutput(out.toFile()).redirectError(err.toFile());
                pb.environment().put("MLFLOW_TRACKING_URI", trackingUri.toString());
                pb.environment().put("MLFLOW_DISABLE_TELEMETRY", "true");
                pb.environment().put("DO_NOT_TRACK", "true");
                pb.environment().put("PYTHONIOENCODING", "utf-8");
                Process p = pb.start();
                if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("python snippet timed out after " + TIMEOUT_SECONDS + " s");
                }
                String stdout = Files.readString(out, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new AssertionError("python snippet failed (" + p.exitValue() + "):\n"
                            + Files.readString(err, StandardCharsets.UTF_8) + "\nstdout:\n" + stdout);
                }
                return stdout;
            } finally {
                Files.deleteIfExists(script);
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
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
}
