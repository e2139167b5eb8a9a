package dev.agentfn.evaluation;

import dev.agentfn.mlflow.MlflowKeys;
import java.util.Map;
import java.util.Optional;

/**
 * Who started an evaluation, for the run page's "Source" ({@code mlflow.source.name}, {@code mlflow.source.type}).
 * MLflow's default context names the script ({@code sys.argv[0]}) with type {@code LOCAL}; agentfn names its
 * entry point: the command is a local run like a script's, the HTTP API and the schedule are a service's job.
 */
public record RunSource(String name, String type) {
    public static final RunSource API = new RunSource("agentfn POST /v1/evaluations", "JOB");
    public static final RunSource COMMAND = new RunSource("agentfn evaluate", "LOCAL");
    public static final RunSource SCHEDULE = new RunSource("agentfn schedule", "JOB");

    Map<String, String> tags(String user) {
        return Map.of(MlflowKeys.RunTag.USER, user, MlflowKeys.RunTag.SOURCE_NAME, name,
                MlflowKeys.RunTag.SOURCE_TYPE, type);
    }

    /** "Created by" as MLflow picks it: the tracking username if there is one, else the OS user. */
    public static String defaultUser(Optional<String> trackingUsername) {
        return trackingUsername.filter(u -> !u.isBlank())
                .orElseGet(() -> Optional.ofNullable(System.getProperty("user.name")).filter(u -> !u.isBlank())
                        .orElse("unknown"));
    }
}
