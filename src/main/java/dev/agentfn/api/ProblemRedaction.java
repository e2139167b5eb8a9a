package dev.agentfn.api;

import dev.agentfn.config.Secrets;
import jakarta.ws.rs.container.ContainerResponseContext;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

/**
 * Every problem document answered as JSON, whichever resource, filter or mapper made it, leaves without a
 * configured secret in its detail (details quote upstream and MLflow messages). The SSE {@code error} event
 * is redacted where the invocation's problem is made (the invocation stage).
 */
public class ProblemRedaction {
    private final Secrets secrets;

    public ProblemRedaction(Secrets secrets) {
        this.secrets = secrets;
    }

    @ServerResponseFilter
    public void redact(ContainerResponseContext response) {
        if (response.getEntity() instanceof Problem p) {
            response.setEntity(p.redacted(secrets));
        }
    }
}
