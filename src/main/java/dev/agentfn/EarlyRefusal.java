package dev.agentfn;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * How a front door words a refusal made before any of its routes runs (the HTTP limits: 414, 431), so every caller
 * gets the error shape its client reads: problem+json on the API, Anthropic's error shape on the gateway. A front
 * door that serves paths of its own provides one as a bean; where none claims the request, the API's shape is used.
 */
public interface EarlyRefusal {

    /** Whether this front door serves the request's method and path. */
    boolean serves(HttpServerRequest request);

    /**
     * Ends the response with {@code status} and {@code detail} (what is wrong, naming the property to change), and
     * closes the connection: the request's body was not read.
     */
    void refuse(RoutingContext ctx, int status, String detail);
}
