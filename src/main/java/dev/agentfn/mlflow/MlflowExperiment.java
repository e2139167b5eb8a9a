package dev.agentfn.mlflow;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * The experiment traces and evaluation runs go to: by id, or by name (created when missing), or MLflow's default
 * experiment {@code 0}. A name is resolved once and cached; a failed lookup is retried by the next caller.
 */
public final class MlflowExperiment {
    private static final Logger LOG = Logger.getLogger(MlflowExperiment.class);

    private final MlflowTracking client;
    private final String experimentId;
    private final String experimentName;
    private final AtomicReference<CompletableFuture<String>> resolved = new AtomicReference<>();

    /** @param experimentId wins over the name when both are given; neither means MLflow's default experiment "0" */
    public MlflowExperiment(MlflowTracking client, String experimentId, String experimentName) {
        this.client = client;
        this.experimentId = experimentId;
        this.experimentName = experimentName;
    }

    /** The experiment as configured, safe to store and show: {@code experiment_id=…} or {@code experiment_name=…}. */
    public String label() {
        return experimentId != null ? "experiment_id=" + experimentId
                : experimentName != null ? "experiment_name=" + experimentName : "experiment_id=0";
    }

    public CompletableFuture<String> id() {
        if (experimentId != null) {
            return CompletableFuture.completedFuture(experimentId);
        }
        if (experimentName == null) {
            return CompletableFuture.completedFuture("0");
        }
        CompletableFuture<String> mine = new CompletableFuture<>();
        for (;;) { // a failed lookup resets the cache between our compareAndSet and get: look again
            CompletableFuture<String> current = resolved.get();
            if (current != null) {
                return current;
            }
            if (resolved.compareAndSet(null, mine)) {
                break;
            }
        }
        client.getExperimentByName(experimentName)
                .thenCompose(found -> found.map(e -> CompletableFuture.completedFuture(e.experimentId()))
                        .orElseGet(() -> {
                            LOG.infof("Creating MLflow experiment %s", experimentName);
                            return client.createExperiment(experimentName);
                        }))
                .whenComplete((id, err) -> {
                    if (err != null) {
                        resolved.compareAndSet(mine, null);
                        mine.completeExceptionally(err);
                    } else {
                        mine.complete(id);
                    }
                });
        return mine;
    }
}
