package dev.agentfn.tracing.export;

import dev.agentfn.mlflow.MlflowTraceClient;
import dev.agentfn.mlflow.MlflowExperiment;
import dev.agentfn.mlflow.MlflowTraceWriter;
import dev.agentfn.mlflow.OtlpBatchLimits;
import dev.agentfn.mlflow.WriteOutcome;
import dev.agentfn.mlflow.entities.Trace;
import java.util.concurrent.CompletableFuture;

/** Exports to an MLflow tracking server or Databricks, into the deployment's experiment. */
public final class MlflowTraceExporter implements TraceExporter {
    private final MlflowTraceClient client;
    private final MlflowTraceWriter writer;
    private final MlflowExperiment experiment;

    public MlflowTraceExporter(MlflowTraceClient client, MlflowExperiment experiment) {
        this(client, experiment, OtlpBatchLimits.DEFAULT);
    }

    public MlflowTraceExporter(MlflowTraceClient client, MlflowExperiment experiment, OtlpBatchLimits batchLimits) {
        this.client = client;
        this.writer = new MlflowTraceWriter(client, batchLimits);
        this.experiment = experiment;
    }

    /** The server's {@link dev.agentfn.mlflow.MlflowTarget#label() label} and the experiment as configured. */
    @Override
    public String destination() {
        return client.target().label() + " " + experiment.label();
    }

    /**
     * OSS MLflow ingests spans alone over OTLP; Databricks' trace upload, and the {@code traces.json} upload of a server
     * without OTLP ingest, replace a trace's whole span list.
     */
    @Override
    public boolean joinsCallerTraces() {
        return !client.target().databricks() && !writer.otlpKnownUnsupported();
    }

    @Override
    public CompletableFuture<ExportResult> export(Trace trace) {
        return experiment.id().thenCompose(id -> writer.write(withExperiment(trace, id)))
                .thenApply(MlflowTraceExporter::result)
                .exceptionally(t -> ExportResult.failure(true, "MLflow experiment lookup failed: " + rootMessage(t)));
    }

    private static Trace withExperiment(Trace trace, String id) {
        return trace.info().experimentId() != null ? trace : trace.withInfo(trace.info().withExperimentId(id));
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
