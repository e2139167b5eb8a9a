package dev.agentfn.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.tracing.TraceDelivery;
import dev.agentfn.tracing.TraceLookup;
import dev.agentfn.tracing.Tracer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.Executor;

/**
 * Turn tracers over the application's tracing beans (its delivery to the test MLflow), made as GatewayRoutes makes
 * its own, for tests at the turn tracer's level: each one is an instance of the gateway with a cache of its own.
 */
@ApplicationScoped
class TurnTracers {
    static final ObjectMapper JSON = new ObjectMapper();
    @Inject
    Tracer tracer;
    @Inject
    TraceDelivery delivery;
    @Inject
    TraceLookup lookup;
    @Inject
    Pricing pricing;

    /** As the gateway runs by default: turn ends wait for MLflow, traces built on a worker of their own. */
    TurnTracer instance() {
        return instance(new TurnCache(100), false, TurnTracer.traceWorker(16));
    }

    TurnTracer instance(TurnCache cache, boolean turnEndWaitsForSpool, Executor traceWork) {
        return new TurnTracer(tracer, delivery, lookup, pricing, JSON, cache, turnEndWaitsForSpool, traceWork);
    }
}
