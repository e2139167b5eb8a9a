package dev.agentfn.gateway;

import dev.agentfn.EarlyRefusal;
import dev.agentfn.config.AgentfnConfig;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.inject.Singleton;

/**
 * The HTTP limits' refusals (414, 431) on the gateway's paths in Anthropic's error shape, as the gateway's own
 * errors are: the limits are checked before any route runs, by a check that serves every front door.
 */
@Singleton
public final class GatewayRefusal implements EarlyRefusal {
    private final boolean enabled;

    public GatewayRefusal(AgentfnConfig config) {
        this.enabled = config.gateway().enabled();
    }

    @Override
    public boolean serves(HttpServerRequest request) {
        return enabled && GatewayRoutes.serves(request.method().name(), request.path());
    }

    @Override
    public void refuse(RoutingContext ctx, int status, String detail) {
        GatewayRoutes.fail(ctx, new GatewayError(status, "invalid_request_error", detail), true);
    }
}
