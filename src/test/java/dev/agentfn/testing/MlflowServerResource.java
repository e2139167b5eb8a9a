package dev.agentfn.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;
import java.util.UUID;

/**
 * Quarkus test resource: one real MLflow server per JVM (SQLite store, started lazily, stopped at
 * JVM exit) and a fresh experiment for every test resource start.
 *
 * <p>Overrides {@code agentfn.mlflow.tracking-uri} and {@code agentfn.mlflow.experiment-id}.
 * Tests reach the server with {@link #server()} (e.g. to stop and restart it) and read traces
 * back with {@code new MlflowPython(MlflowServerResource.server())}.
 */
public final class MlflowServerResource implements QuarkusTestResourceLifecycleManager {
    public static final String TRACKING_URI = "agentfn.mlflow.tracking-uri";
    public static final String EXPERIMENT_ID = "agentfn.mlflow.experiment-id";

    private static MlflowServer server;
    private static volatile String experimentId;

    /** The shared server, started on first use. */
    public static synchronized MlflowServer server() {
        if (server == null) {
            server = MlflowServer.startSqlite();
        }
        return server;
    }

    /** The experiment created by the latest {@link #start()}. */
    public static String experimentId() {
        return experimentId;
    }

    @Override
    public Map<String, String> start() {
        MlflowServer s = server();
        s.start(); // a previous test may have left it stopped
        experimentId = s.createExperiment("agentfn-test-" + UUID.randomUUID());
        return Map.of(TRACKING_URI, s.uri().toString(), EXPERIMENT_ID, experimentId);
    }

    @Override
    public void stop() {
        // Shared across test classes; the shutdown hook stops it.
    }
}
