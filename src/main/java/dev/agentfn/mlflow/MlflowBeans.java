package dev.agentfn.mlflow;

import dev.agentfn.config.AgentfnConfig;
import io.vertx.core.Vertx;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.Optional;
import org.jboss.logging.Logger;

/** Builds the deployment's MLflow clients from configuration, once, at start, on one transport. */
@Singleton
public class MlflowBeans {
    private static final Logger LOG = Logger.getLogger(MlflowBeans.class);

    /** {@link MlflowAccess#NONE} without a tracking URI ({@code MLFLOW_TRACKING_URI}). */
    @Produces
    @Singleton
    MlflowAccess mlflow(AgentfnConfig config, Vertx vertx) {
        AgentfnConfig.Mlflow m = config.mlflow();
        Optional<String> uri = nonBlank(m.trackingUri());
        if (uri.isEmpty()) {
            return MlflowAccess.NONE;
        }
        MlflowTarget target = target(uri.get(), m);
        LOG.infof("MLflow at %s", target.label());
        MlflowRest rest = new MlflowRest(target, new MlflowHttp(vertx));
        MlflowTracking tracking = new MlflowTracking(rest);
        return new MlflowAccess(new MlflowTraceClient(rest), tracking, new MlflowExperiment(tracking,
                nonBlank(m.experimentId()).orElse(null), nonBlank(m.experimentName()).orElse(null)));
    }

    /** {@code databricks} (or {@code databricks://profile}) means the workspace of DATABRICKS_HOST. */
    private static MlflowTarget target(String uri, AgentfnConfig.Mlflow m) {
        if (uri.startsWith("databricks")) {
            String host = nonBlank(m.databricksHost()).orElseThrow(() -> new IllegalStateException(
                    "MLFLOW_TRACKING_URI=databricks needs DATABRICKS_HOST (agentfn.mlflow.databricks-host)"));
            String token = nonBlank(m.databricksToken()).orElseThrow(() -> new IllegalStateException(
                    "MLFLOW_TRACKING_URI=databricks needs DATABRICKS_TOKEN (agentfn.mlflow.databricks-token)"));
            return MlflowTarget.of(host.startsWith("http") ? host : "https://" + host)
                    .withAuth(new MlflowTarget.BearerToken(token)).asDatabricks().withRequestTimeout(m.requestTimeout());
        }
        MlflowTarget target = MlflowTarget.of(uri).withRequestTimeout(m.requestTimeout());
        if (nonBlank(m.trackingToken()).isPresent()) {
            return target.withAuth(new MlflowTarget.BearerToken(m.trackingToken().get()));
        }
        if (nonBlank(m.trackingUsername()).isPresent()) {
            return target.withAuth(new MlflowTarget.BasicAuth(m.trackingUsername().get(),
                    m.trackingPassword().orElse("")));
        }
        return target;
    }

    private static Optional<String> nonBlank(Optional<String> s) {
        return s.filter(v -> !v.isBlank());
    }
}
