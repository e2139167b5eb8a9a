package dev.agentfn.mlflow;

import java.util.Objects;

/**
 * The MLflow this deployment writes to, built once from configuration ({@link MlflowBeans}): the client and the
 * experiment. Trace export and evaluation each take it as a bean of its own, so neither reaches MLflow through
 * the other. {@link #NONE} when no tracking URI is configured.
 */
public final class MlflowAccess {
    public static final MlflowAccess NONE = new MlflowAccess(null, null);

    private final MlflowClient client;
    private final MlflowExperiment experiment;

    public MlflowAccess(MlflowClient client, MlflowExperiment experiment) {
        this.client = client;
        this.experiment = experiment;
    }

    public boolean configured() {
        return client != null;
    }

    public MlflowClient client() {
        return Objects.requireNonNull(client, "no MLflow tracking URI is configured");
    }

    public MlflowExperiment experiment() {
        return Objects.requireNonNull(experiment, "no MLflow tracking URI is configured");
    }

    /**
     * The tracking server's address for links a person opens and log lines, without any user info a tracking URI
     * may carry ({@link MlflowTarget#label()}); null when none is configured.
     */
    public String trackingUri() {
        return client == null ? null : client.target().label();
    }

    /** Where traces and runs go, as a label that holds no credential: server label and experiment. */
    public String destination() {
        return client == null ? "nowhere" : client.target().label() + " " + experiment.label();
    }
}
