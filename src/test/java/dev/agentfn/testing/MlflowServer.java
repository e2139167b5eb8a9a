package dev.agentfn.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code mlflow server} for tests: fresh SQLite DB (or file store) and artifact dir under
 * {@code target/mlflow-servers/}, loopback port, log file beside them. {@link #stop()} and
 * {@link #start()} keep the port and the data, so tests can take MLflow down and bring it back.
 *
 * <p>Startup failures throw with the tail of the server log: tests fail, they never skip.
 */
public final class MlflowServer implements AutoCloseable {
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration SETUP_TIMEOUT = Duration.ofMinutes(20);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    private static Path venv;

    private final boolean fileStore;
    private final String backendUri;
    private final int workers;
    private final Map<String, String> extraEnv;
    private final Path dir;
    private final Path log;
    private final int port;
    private Process process;

    private MlflowServer(boolean fileStore, String backendUri, int workers, Map<String, String> extraEnv) {
        this.fileStore = fileStore;
        this.backendUri = backendUri;
        this.workers = workers;
        this.extraEnv = Map.copyOf(extraEnv);
        this.port = freePort();
        this.dir = projectDir().resolve("target/mlflow-servers")
                .resolve((fileStore ? "file-" : "sqlite-") + port + "-" + System.currentTimeMillis());
        this.log = dir.resolve("server.log");
        try {
            Files.createDirectories(dir.resolve("artifacts"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a server with a SQLite store (OTLP ingest available). */
    public static MlflowServer startSqlite() {
        return startNew(false, Map.of());
    }

    /**
     * Like {@link #startSqlite()} with extra server environment, e.g.
     * {@code MLFLOW_SERVER_ENABLE_JOB_EXECUTION=true} for online scoring (off by default: it forks
     * seven job-runner processes).
     */
    public static MlflowServer startSqlite(Map<String, String> env) {
        return startNew(false, env);
    }

    /** Starts a server with the legacy file store: OTLP answers 501, so writers use traces.json. */
    public static MlflowServer startFileStore() {
        return startNew(true, Map.of());
    }

    /**
     * Starts a server on another SQL store (e.g. {@code postgresql://…}, for benchmarks that need
     * concurrent writers) with several uvicorn workers. The database must exist; MLflow migrates it.
     */
    public static MlflowServer startWithBackend(String backendUri, int workers) {
        return register(new MlflowServer(false, backendUri, workers, Map.of()));
    }

    private static MlflowServer startNew(boolean fileStore, Map<String, String> env) {
        return register(new MlflowServer(fileStore, null, 1, env));
    }

    private static MlflowServer register(MlflowServer server) {
        Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "mlflow-server-stop-" + server.port));
        server.start();
        return server;
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public int port() {
        return port;
    }

    public boolean isFileStore() {
        return fileStore;
    }

    public Path venv() {
        return ensureVenv();
    }

    public Path logFile() {
        return log;
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Starts (again) on the same port with the same data; returns once {@code /health} answers. */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        waitForPortFree();
        try {
            ProcessBuilder pb = new ProcessBuilder(command())
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().putAll(serverEnvironment(fileStore));
            pb.environment().putAll(extraEnv);
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start mlflow server: " + e.getMessage(), e);
        }
        awaitHealthy();
    }

    private List<String> command() {
        Path bin = ensureVenv().resolve("bin/mlflow");
        String store = backendUri != null ? backendUri
                : fileStore ? dir.resolve("mlruns").toString() : "sqlite:///" + dir.resolve("mlflow.db");
        return List.of(bin.toString(), "server", "--host", "127.0.0.1", "--port", Integer.toString(port),
                "--backend-store-uri", store, "--artifacts-destination", dir.resolve("artifacts").toString(),
                "--workers", Integer.toString(workers));
    }

    private void awaitHealthy() {
        Instant deadline = Instant.now().plus(STARTUP_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("mlflow server exited with " + process.exitValue()
                        + " during startup; log tail:\n" + logTail(40));
            }
            if (healthy()) {
                return;
            }
            sleep(300);
        }
        stop();
        throw new IllegalStateException("mlflow server not healthy within " + STARTUP_TIMEOUT.toSeconds()
                + " s; log tail:\n" + logTail(40));
    }

    private boolean healthy() {
        try {
            HttpRequest req = HttpRequest.newBuilder(uri().resolve("/health")).timeout(Duration.ofSeconds(2)).build();
            return HTTP.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Kills the server and every child process (uvicorn worker, job runner). */
    public synchronized void stop() {
        Process p = process;
        if (p == null) {
            return;
        }
        List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
        tree.add(p.toHandle());
        tree.forEach(ProcessHandle::destroy);
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
        process = null;
    }

    @Override
    public void close() {
        stop();
    }

    /** Creates an experiment through REST and returns its id. */
    public String createExperiment(String name) {
        try {
            String body = JSON.createObjectNode().put("name", name).toString();
            HttpRequest req = HttpRequest.newBuilder(uri().resolve("/api/2.0/mlflow/experiments/create"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30)).build();
            HttpResponse<String> r = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("create experiment " + name + " -> " + r.statusCode() + ": " + r.body());
            }
            JsonNode json = JSON.readTree(r.body());
            return json.path("experiment_id").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public String logTail(int lines) {
        try {
            if (!Files.exists(log)) {
                return "(no log)";
            }
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read log: " + e.getMessage() + ")";
        }
    }

    // ---- environment -------------------------------------------------------------------------

    /** The directory holding {@code .ci/}, found by walking up from the working directory. */
    public static Path projectDir() {
        Path p = Path.of("").toAbsolutePath();
        for (Path d = p; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve(".ci/setup-mlflow.sh"))) {
                return d;
            }
        }
        throw new IllegalStateException("no .ci/setup-mlflow.sh above " + p);
    }

    /**
     * Runs {@code .ci/setup-mlflow.sh} once per JVM, under a file lock so parallel test JVMs do
     * not install into the same venv at the same time.
     */
    public static synchronized Path ensureVenv() {
        if (venv != null) {
            return venv;
        }
        Path lockFile = Path.of(System.getProperty("user.home"), ".cache", "agentfn", "setup-mlflow.lock");
        try {
            Files.createDirectories(lockFile.getParent());
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock ignored = ch.lock()) {
                venv = runSetup();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return venv;
    }

    private static Path runSetup() throws IOException {
        Path script = projectDir().resolve(".ci/setup-mlflow.sh");
        Path out = Files.createTempFile("setup-mlflow", ".out");
        Path err = Files.createTempFile("setup-mlflow", ".err");
        Process p = new ProcessBuilder("bash", script.toString())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (!p.waitFor(SETUP_TIMEOUT.toMinutes(), TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("setup-mlflow.sh timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        List<String> lines = Files.readAllLines(out);
        if (p.exitValue() != 0 || lines.isEmpty()) {
            throw new IllegalStateException("setup-mlflow.sh failed (" + p.exitValue() + "): "
                    + Files.readString(err));
        }
        Path dir = Path.of(lines.get(lines.size() - 1).strip());
        if (!Files.isExecutable(dir.resolve("bin/mlflow"))) {
            throw new IllegalStateException("no mlflow in " + dir);
        }
        return dir;
    }

    /** Offline, quiet, light server: no model-catalog fetch, no telemetry, no job runner. */
    static Map<String, String> serverEnvironment(boolean fileStore) {
        Map<String, String> env = new java.util.HashMap<>(Map.of(
                "MLFLOW_MODEL_CATALOG_URI", "",
                "MLFLOW_DISABLE_TELEMETRY", "true",
                "DO_NOT_TRACK", "true",
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false"));
        if (fileStore) {
            env.put("MLFLOW_ALLOW_FILE_STORE", "true");
        }
        return env;
    }

    private void waitForPortFree() {
        Instant deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)) {
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return;
            } catch (IOException busy) {
                sleep(200);
            }
        }
        throw new IllegalStateException("port " + port + " still busy");
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
