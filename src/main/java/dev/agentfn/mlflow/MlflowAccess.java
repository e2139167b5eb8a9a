package dev.agentfn.mlflow;

import java.util.Objects;

/**
 * The MLflow this deployment writes to, built once from configuration ({@link MlflowBeans}): the client that
 * writes traces, the tracking client (experiments, runs, assessments, datasets) and the experiment. Trace export
 * and evaluation each take it as a bean of their own, so neither reaches MLflow through the other. {@link #NONE}
 * when no tracking URI is configured.
 */
public final class MlflowAccess {
    public static final MlflowAccess NONE = new MlflowAccess(null, null, null);

    private final MlflowTraceClient traces;
    private final MlflowTracking tracking;
    private final MlflowExperiment experiment;

    public MlflowAccess(MlflowTraceClient traces, MlflowTracking tracking, MlflowExperiment experiment) {
        this.traces = traces;
        this.tracking = tracking;
        this.experiment = experiment;
    }

    public boolean configured() {
        return tracking != null;
    }

    /** Writes traces (trace export). */
    public MlflowTraceClient traces() {
        return Objects.requireNonNull(traces, "no MLflow tracking URI is configured");
    }

    /** Experiments, runs, assessments, datasets, stored traces (evaluation, the CLI). */
    public MlflowTracking tracking() {
        return Objects.requireNonNull(tracking, "no MLflow tracking URI is configured");
    }

    public MlflowExperiment experiment() {
        return Objects.requireNonNull(experiment, "no MLflow tracking URI is configured");
    }

    /**
     * The tracking server's address for links a person opens and log lines, without any user info a tracking URI
     * may carry ({@link MlflowTarget#label()}); null when none is configured.
     */
    public String trackingUri() {
        return tracking == null ? null : tracking.target().label();
    }

    /** Where traces and runs go, as a label that holds no credential: server label and experiment. */
    public String destination() {
        return tracking == null ? "nowhere" : tracking.target().label() + " " + experiment.label();
    }
}
