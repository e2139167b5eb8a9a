package dev.agentfn.tracing.export;

import dev.agentfn.mlflow.MlflowClient;
import dev.agentfn.mlflow.MlflowTraceWriter;
import dev.agentfn.mlflow.WriteOutcome;
import dev.agentfn.mlflow.entities.Trace;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Exports to an MLflow tracking server or Databricks. The experiment is resolved once (by id, or by
 * name, created when missing) and cached; a failed lookup is retried by the next export.
 */
public final class MlflowTraceExporter implements TraceExporter {
    private static final Logger LOG = Logger.getLogger(MlflowTraceExporter.class);

    private final MlflowClient client;
    private final MlflowTraceWriter writer;
    private final String experimentId;
    private final String experimentName;
    private final AtomicReference<CompletableFuture<String>> resolved = new AtomicReference<>();

    /** @param experimentId wins over the name when both are given; neither means MLflow's default experiment "0" */
    public MlflowTraceExporter(MlflowClient client, String experimentId, String experimentName) {
        this.client = client;
        this.writer = new MlflowTraceWriter(client);
        this.experimentId = experimentId;
        this.experimentName = experimentName;
    }

    /** The server's {@link dev.agentfn.mlflow.MlflowTarget#label() label} and the experiment as configured (by id or by name). */
    @Override
    public String destination() {
        String experiment = experimentId != null ? "experiment_id=" + experimentId
                : experimentName != null ? "experiment_name=" + experimentName : "experiment_id=0";
        return client.target().label() + " " + experiment;
    }

    /** The client, for other writers to the same server (evaluation runs and assessments). */
    public MlflowClient client() {
        return client;
    }

    @Override
    public CompletableFuture<ExportResult> export(Trace trace) {
        return experiment().thenCompose(id -> writer.write(withExperiment(trace, id)))
                .thenApply(MlflowTraceExporter::result)
                .exceptionally(t -> ExportResult.failure(true, "MLflow experiment lookup failed: " + rootMessage(t)));
    }

    public CompletableFuture<String> experiment() {
        if (experimentId != null) {
            return CompletableFuture.completedFuture(experimentId);
        }
        if (experimentName == null) {
            return CompletableFuture.completedFuture("0");
        }
        CompletableFuture<String> mine = new CompletableFuture<>();
        if (!resolved.compareAndSet(null, mine)) {
            return resolved.get();
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

    private static Trace withExperiment(Trace trace, String id) {
        return trace.info().experimentId() != null ? trace : new Trace(trace.info().withExperimentId(id), trace.spans());
    }

    private static ExportResult result(WriteOutcome o) {
        return o.delivered() ? ExportResult.success("delivered via " + o.path())
                : ExportResult.failure(o.retryable(), o.path() + ": " + o.reason());
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
